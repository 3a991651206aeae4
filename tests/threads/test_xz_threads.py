#!/usr/bin/python3
"""xz -T2 (two compression threads, 1 MiB blocks) writing its own output file INPUT.xz,
killed 3 times under ckpt-run and resumed; the output file must be byte-identical to the one
an uninterrupted run writes, and decompress to the input."""
import lzma
import os

import ckpt_harness
from ckpt_harness import check, log


def body(h):
    src = h.path("input.txt")
    data = ckpt_harness.make_text_input(src, 12_000_000, seed=11, n_words=64, words_per_line=12, word_bits=20)
    argv = [h.which("xz"), "-T2", "--block-size=1MiB", "-6", "-k", "-f", src]
    h.run_plain(argv, h.make_output("plain.out"))
    reference = ckpt_harness.read_bytes(src + ".xz")
    check(lzma.decompress(reference) == data, "reference output does not decompress to the input")
    os.unlink(src + ".xz")
    h.kill_and_resume(argv, job="xz-t2", reference=b"")
    actual = ckpt_harness.read_bytes(src + ".xz")
    check(actual == reference, "INPUT.xz differs from the uninterrupted run's: " +
          ckpt_harness.describe_difference(reference, actual))
    log(f"input.txt.xz identical to the uninterrupted run's ({len(actual)} bytes)")


ckpt_harness.main("xz_threads", body)
