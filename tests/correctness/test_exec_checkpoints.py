#!/usr/bin/python3
"""A program that execs itself every 300 ms, under --interval 1s, still gets checkpoints:
an exec (the new image's runtime reports Ready again) keeps the due time of the next
checkpoint instead of starting the interval anew (issue 9, item 7)."""
import ckpt_harness
from ckpt_harness import check, log


def body(h):
    # 40 execs, 300 ms apart: 12 s in all, 3.3 execs per interval.
    argv = [h.program("exec_loop"), "40", "300"]
    launcher = h.start("execs", argv, h.make_output(), interval="1s")
    v = h.wait_for_version_above(launcher, 1, "two checkpoints of a program that execs every 300 ms")
    log(f"version {v} committed while the program execs every 300 ms")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc}; log:\n{launcher.log_text()}")


ckpt_harness.main("exec_checkpoints", body)
