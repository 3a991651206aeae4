#!/usr/bin/python3
"""A program that does not exist: exit 127, one clear message naming it, nothing created."""
import os

import ckpt_harness
from ckpt_harness import check


def one_error_line(text, what):
    lines = [l for l in text.splitlines() if l.strip()]
    check(len(lines) == 1, f"{what}: expected one message, got {len(lines)}:\n{text}")
    return lines[0]


def body(h):
    root = h.path("ckpt")
    missing_path = h.path("no-such-program")
    for prog in (missing_path, "ckpt-e2e-no-such-program"):
        rc, err = h.run_to_exit("job", [prog, "arg"], verbose=False, root=root)
        check(rc == ckpt_harness.EXIT_NOT_FOUND, f"{prog}: exit {rc}, expected 127; stderr:\n{err}")
        line = one_error_line(err, prog)
        check(prog in line and "not found" in line, f"{prog}: message does not name it clearly: {line!r}")
        ckpt_harness.log(f"{prog}: exit 127, {line!r}")
    check(not os.path.exists(root), lambda: f"{root} was created for a program that does not exist")


ckpt_harness.main("missing_program", body)
