#!/usr/bin/python3
"""Issue 9, item 9: a POSIX timer that notifies by starting a thread (SIGEV_THREAD: glibc runs
it on a helper thread of its own, which a restore cannot recreate) refuses the checkpoint with
a message naming the timer, not a restore that would silently lose it: the probe's chkpnt()
fails and no image is written."""
import os

import ckpt_harness
from ckpt_harness import check, log
from attrs_common import Probe


def body(h):
    p = Probe(h, "sigev_thread")
    rc, out, err = p.rerun()
    check(out.startswith("CHECKPOINT REFUSED"), f"the probe's checkpoint was not refused: {out!r}; log:\n{err}")
    lines = [l for l in err.splitlines() if "a SIGEV_THREAD timer (not supported): timer 0" in l]
    check(lines, f"the log does not name the SIGEV_THREAD timer:\n{err}")
    check(not h.versions(p.job_path()), "an image was written")
    check(not os.path.exists(p.marker), "the probe went on as if checkpointed")
    log(f"refused: {lines[0]!r}")


ckpt_harness.main("attr_sigev_thread_refused", body)
