#!/usr/bin/python3
"""Issue 9, item 9: a file lock the program held at its checkpoint (an exclusive flock) that
another process holds when the job is restored refuses the restore before anything is torn
down: exit 88, a message naming the file, the checkpoint kept. Once the other process lets
go, the next run restores the program, which holds its lock again."""
import fcntl
import os

import ckpt_harness
from ckpt_harness import check, log
from attrs_common import Probe

EXIT_ATTRS_REFUSED = 88


def body(h):
    p = Probe(h, "flock_only")
    p.checkpoint_and_kill()
    job = h.path("ckpt", p.job)
    before = h.images_snapshot(job)
    path = os.path.join(p.work, "flocked")
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        rc, out, err = p.rerun()
    finally:
        os.close(fd)
    check(rc == EXIT_ATTRS_REFUSED, f"exit {rc}, expected {EXIT_ATTRS_REFUSED}; probe said {out!r}; log:\n{err}")
    lines = [l for l in err.splitlines() if path in l and "held by" in l]
    check(lines, f"no message names the locked file {path}:\n{err}")
    check(h.images_snapshot(job) == before, "the checkpoints changed after the refusal")
    log(f"refused: {lines[0]!r}")
    rc, out, err = p.rerun()
    check(rc == 0 and out.startswith("OK "), f"after the lock was released: exit {rc}, probe said {out!r}; log:\n{err}")
    log(out.strip())


ckpt_harness.main("attr_lock_held_elsewhere", body)
