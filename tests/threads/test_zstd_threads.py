#!/usr/bin/python3
"""zstd -T2 (two worker threads, 1 MiB jobs) compressing into its stdout (a file opened 1<>),
killed 3 times under ckpt-run and resumed; output byte-identical to an uninterrupted run and
decompressing to the input."""
import subprocess

import ckpt_harness
from ckpt_harness import check


def body(h):
    src = h.path("input.txt")
    data = ckpt_harness.make_text_input(src, 16_000_000, seed=5, n_words=64, words_per_line=12, word_bits=20)
    argv = [h.which("zstd"), "-T2", "-B1MiB", "-15", "-c", "-q", src]
    reference, _ = h.reference(argv)
    back = subprocess.run([h.which("zstd"), "-d", "-c", "-q"], input=reference, capture_output=True).stdout
    check(back == data, "reference output does not decompress to the input")
    h.kill_and_resume(argv, job="zstd-t2", reference=reference)


ckpt_harness.main("zstd_threads", body)
