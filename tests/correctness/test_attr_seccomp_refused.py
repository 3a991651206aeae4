#!/usr/bin/python3
"""Issue 9, item 9: a program with a seccomp filter is never checkpointed (a restore could not
install the filter again, and dropping a sandbox silently is not an option): its chkpnt()
fails, the launcher logs the refusal naming the seccomp filter, and no image is written."""
import os

import ckpt_harness
from ckpt_harness import check, log
from attrs_common import Probe


def body(h):
    p = Probe(h, "seccomp")
    rc, out, err = p.rerun()
    check(out.startswith("CHECKPOINT REFUSED"), f"the probe's checkpoint was not refused: {out!r}; log:\n{err}")
    check(rc == 5, f"ckpt-run exited with {rc}, expected the probe's 5")
    lines = [l for l in err.splitlines() if "seccomp filter" in l]
    check(lines, f"the log does not name the seccomp filter:\n{err}")
    job = h.path("ckpt", p.job)
    check(not h.versions(job), f"an image was written: {h.versions(job)}")
    check(not os.path.exists(p.marker), "the probe went on as if checkpointed")
    log(f"refused: {lines[0]!r}")


ckpt_harness.main("attr_seccomp_refused", body)
