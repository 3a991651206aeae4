#!/usr/bin/python3
"""The persistent-state epoch begins at the fork, not at the commit: python3 with a 256 MiB heap
appends a line (O_APPEND, flushed) to a file every few milliseconds while forked writers write;
after each SIGKILL the recovery must undo exactly the lines appended since the restored
version's snapshot (those appended between a snapshot and its commit included), or they stay
twice. The appended file and the output must equal an uninterrupted run's."""
import glob
import os

import ckpt_harness
from ckpt_harness import check, log
import fork_common


def body(h):
    appended = h.path("appended.log")
    argv = fork_common.heap_argv(h, steps=30000000, every=20000, append_to=appended)
    reference, _ = h.reference(argv)
    expected = ckpt_harness.read_bytes(appended)
    os.unlink(appended)
    h.kill_and_resume(argv, kills=3, reference=reference)
    actual = ckpt_harness.read_bytes(appended)
    check(actual == expected, "the appended file differs from the uninterrupted run's: " +
          ckpt_harness.describe_difference(expected, actual))
    logs = "".join(open(p, errors="replace").read() for p in sorted(glob.glob(h.path("run-*.log"))))
    forked = logs.count("by a forked writer")
    check(forked >= 3, f"only {forked} checkpoints were written by a forked writer; logs:\n{logs}")
    log(f"{forked} forked checkpoints across the runs; appended file identical ({len(actual)} bytes)")


ckpt_harness.main("fork_undo_epoch", body)
