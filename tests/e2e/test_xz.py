#!/usr/bin/python3
"""xz -T1 compressing a generated file into its stdout (a file opened 1<>), killed 3 times
and resumed; the output must be byte-identical and decompress to the input. xz keeps a
self-pipe (both ends in the process) on fds 3 and 4: this also tests that it is rebuilt."""
import lzma

import ckpt_harness


def body(h):
    src = h.path("input.txt")
    data = ckpt_harness.make_text_input(src, 9_000_000, seed=7, n_words=64, words_per_line=12, word_bits=20)
    argv = [h.which("xz"), "-T1", "-6", "-c", src]
    reference, _ = h.reference(argv)
    ckpt_harness.check(lzma.decompress(reference) == data, "reference output does not decompress to the input")
    h.kill_and_resume(argv, reference=reference)


ckpt_harness.main("xz", body)
