#!/usr/bin/python3
"""--dir that cannot be created (a path under a regular file): exit 73, one clear message
naming the directory, the program not started."""
import ckpt_harness
from ckpt_harness import check


def body(h):
    blocker = h.path("a-regular-file")
    with open(blocker, "w") as f:
        f.write("not a directory\n")
    root = h.path("a-regular-file", "ckpt")
    out = h.make_output()
    rc, err = h.run_to_exit("job", [h.program("counter"), "5", "1000"], out, root=root, verbose=False)
    check(rc == ckpt_harness.EXIT_CANT_CREATE, f"exit {rc}, expected 73; stderr:\n{err}")
    lines = [l for l in err.splitlines() if l.strip()]
    check(len(lines) == 1, f"expected one message, got {len(lines)}:\n{err}")
    check(root in lines[0], f"message does not name the directory {root}: {lines[0]!r}")
    check(ckpt_harness.read_bytes(out) == b"", "the program ran although its checkpoints could not be stored")
    with open(blocker) as f:
        check(f.read() == "not a directory\n", "the regular file in the way was modified")
    ckpt_harness.log(f"exit 73, {lines[0]!r}")


ckpt_harness.main("unwritable_dir", body)
