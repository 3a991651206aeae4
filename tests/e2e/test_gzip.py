#!/usr/bin/python3
"""gzip -9 compressing a generated file into its stdout (a file opened 1<>), killed 3 times
and resumed; the compressed output must be byte-identical and decompress to the input.
(xz has its own test, test_xz.py.)"""
import gzip
import random

import ckpt_harness


def make_input(path, size, seed=20240607):
    """Pseudo-random text from a small vocabulary: compressible, and slow for gzip -9."""
    r = random.Random(seed)
    words = ["%x" % r.getrandbits(24) for _ in range(20)]
    parts, n = [], 0
    while n < size:
        line = " ".join(r.choice(words) for _ in range(10)) + "\n"
        parts.append(line)
        n += len(line)
    data = "".join(parts).encode()
    with open(path, "wb") as f:
        f.write(data)
    return data


def body(h):
    src = h.path("input.txt")
    data = make_input(src, 36_000_000)
    argv = [h.which("gzip"), "-9", "-n", "-c", src]
    reference, _ = h.reference(argv)
    ckpt_harness.check(gzip.decompress(reference) == data, "reference output does not decompress to the input")
    h.kill_and_resume(argv, reference=reference)


ckpt_harness.main("gzip", body)
