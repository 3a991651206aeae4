#!/usr/bin/python3
"""A program whose state lives in a MADV_WIPEONFORK (or MADV_DONTFORK: FORK_MADVISE=dontfork)
region is checkpointed correctly: the forked writer finds it cannot see that memory, ckpt-run
says so once and asks for synchronous checkpoints; killed and resumed, the output equals an
uninterrupted run's."""
import glob
import os

import ckpt_harness
from ckpt_harness import check, log


def body(h):
    mode = os.environ.get("FORK_MADVISE", "wipeonfork")
    argv = [h.program("fork_madvise"), mode, "700"]
    h.kill_and_resume(argv, kills=2)
    logs = [open(p, errors="replace").read() for p in sorted(glob.glob(h.path("run-*.log")))]
    said = sum(t.count("cannot see all of the program's memory") for t in logs)
    check(said >= 1, "no run said that the forked writer cannot see the program's memory; logs:\n" + "".join(logs))
    check(all(t.count("cannot see all of the program's memory") <= 1 for t in logs),
          "a run said more than once that the writer cannot see the memory")
    want = "MADV_WIPEONFORK" if mode == "wipeonfork" else "MADV_DONTFORK"
    check(any(want in t for t in logs), f"the message does not name {want}")
    log(f"{mode}: resumed correctly; the fallback was announced {said} time(s) over {len(logs)} runs")


ckpt_harness.main("fork_madvise", body)
