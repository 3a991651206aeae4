#!/usr/bin/python3
"""gzip -9 compressing a generated file into its stdout (a file opened 1<>), killed 3 times
and resumed; the compressed output must be byte-identical and decompress to the input.
(xz has its own test, test_xz.py.)"""
import gzip

import ckpt_harness


def body(h):
    src = h.path("input.txt")
    data = ckpt_harness.make_text_input(src, 36_000_000, seed=20240607)
    argv = [h.which("gzip"), "-9", "-n", "-c", src]
    reference, _ = h.reference(argv)
    ckpt_harness.check(gzip.decompress(reference) == data, "reference output does not decompress to the input")
    h.kill_and_resume(argv, reference=reference)


ckpt_harness.main("gzip", body)
