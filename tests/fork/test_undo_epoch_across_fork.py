#!/usr/bin/python3
"""The persistent-state epoch begins at the fork, not at the commit: python3 with a 256 MiB heap
prints (flushed) to a regular file while forked writers write; after each SIGKILL the recovery
undoes exactly the lines written since the restored version's snapshot (lines written between
a snapshot and its commit included), so the final output equals an uninterrupted run's."""
import glob

import ckpt_harness
from ckpt_harness import check, log
import fork_common


def body(h):
    argv = fork_common.heap_argv(h, steps=30000000, every=20000)
    h.kill_and_resume(argv, kills=3)
    logs = "".join(open(p, errors="replace").read() for p in sorted(glob.glob(h.path("run-*.log"))))
    forked = logs.count("by a forked writer")
    check(forked >= 3, f"only {forked} checkpoints were written by a forked writer; logs:\n{logs}")
    log(f"{forked} forked checkpoints across the runs")


ckpt_harness.main("fork_undo_epoch", body)
