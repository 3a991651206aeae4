#!/usr/bin/python3
"""Issue 9, item 10: a file the program had open that was replaced after the checkpoint (a new
file renamed over it, the atomic-save idiom of another program) is not the program's file:
the restore is refused with exit 79 and a message naming it, and the new file is not touched.
Two ways the program holds the file: as fd 3, and as stdout pointed at it by freopen() (a
descriptor 0-2 of the program's own, which is reopened by path like any other)."""
import os

import ckpt_harness
from ckpt_harness import check, log
from fdcase_common import Case

EXIT_STALE_IMAGE = 79


def scenario(h, mode, name):
    case = Case(h, mode)
    # The undo of file changes (recovery, docs/persistent-state.md) is not what is tested here:
    # the case's files are excluded from it, so that only the descriptor restore meets them.
    extra = ("--exclude", case.dir)
    launcher = case.start(extra=extra)
    v = case.checkpoint_after_ready(launcher)
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"{mode}: ckpt-run exited with {rc} after the kill")
    target = case.file(name)
    tmp = target + ".new"
    with open(tmp, "w") as f:
        f.write("NEW\n")
    os.rename(tmp, target)
    case.touch("go")
    rc, err = h.run_to_exit(case.job, case.argv, extra=extra)
    check(rc == EXIT_STALE_IMAGE, f"{mode}: exit {rc}, expected {EXIT_STALE_IMAGE}; log:\n{err}")
    check(target in err and "different file" in err,
          f"{mode}: the message does not name the replaced file {target}: {err!r}")
    with open(target) as f:
        content = f.read()
    check(content == "NEW\n", f"{mode}: the replacing file was written to: {content!r}")
    log(f"{mode}: version {v} refused: {[l for l in err.splitlines() if 'different file' in l][0]!r}")


def body(h):
    scenario(h, "file", "data")
    scenario(h, "stdout", "log")


ckpt_harness.main("fd_replaced_file", body)
