#!/usr/bin/python3
"""GNU sort --parallel=2 with a small buffer (-S 4M), so that it sorts with two threads and
spills temporary files into its own directory (-T), writing -o OUTPUT; killed 3 times under
ckpt-run and resumed; OUTPUT must be byte-identical to an uninterrupted run's."""
import os

import ckpt_harness
from ckpt_harness import check, log


def body(h):
    src = h.path("input.txt")
    ckpt_harness.make_text_input(src, 160_000_000, seed=3, n_words=4096, words_per_line=6, word_bits=24)
    tmp = h.path("sort-tmp")
    os.mkdir(tmp)
    out = h.path("sorted.txt")
    argv = [h.which("sort"), "--parallel=2", "-S", "4M", "-T", tmp, "-o", out, src]
    h.run_plain(argv, h.make_output("plain.out"))
    reference = ckpt_harness.read_bytes(out)
    check(len(reference) == os.path.getsize(src), "the reference sort lost bytes")
    os.unlink(out)
    h.kill_and_resume(argv, job="sort-parallel", reference=b"", max_extra_ms=300)
    actual = ckpt_harness.read_bytes(out)
    check(actual == reference, "the sorted output differs from the uninterrupted run's: " +
          ckpt_harness.describe_difference(reference, actual))
    check(os.listdir(tmp) == [], f"temporary files left behind: {os.listdir(tmp)}")
    log(f"sorted output identical ({len(actual)} bytes); no temporary file left")


ckpt_harness.main("sort_parallel", body)
