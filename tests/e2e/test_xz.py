#!/usr/bin/python3
"""xz -T1 compressing a generated file into its stdout (a file opened 1<>), killed 3 times
and resumed; the output must be byte-identical and decompress to the input. xz keeps a
self-pipe (both ends in the process) on fds 3 and 4: this also tests that it is rebuilt."""
import lzma
import random

import ckpt_harness


def make_input(path, size, seed=7):
    r = random.Random(seed)
    words = ["%x" % r.getrandbits(20) for _ in range(64)]
    parts, n = [], 0
    while n < size:
        line = " ".join(r.choice(words) for _ in range(12)) + "\n"
        parts.append(line)
        n += len(line)
    data = "".join(parts).encode()
    with open(path, "wb") as f:
        f.write(data)
    return data


def body(h):
    src = h.path("input.txt")
    data = make_input(src, 9_000_000)
    argv = [h.which("xz"), "-T1", "-6", "-c", src]
    reference, _ = h.reference(argv)
    ckpt_harness.check(lzma.decompress(reference) == data, "reference output does not decompress to the input")
    h.kill_and_resume(argv, reference=reference)


ckpt_harness.main("xz", body)
