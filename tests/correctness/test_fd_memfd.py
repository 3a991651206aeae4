#!/usr/bin/python3
"""Issue 10: a memfd comes back with its contents, seals, name and offset, and its MAP_SHARED
mapping is still the same object as the descriptor (stores through either are seen through
the other); a second memfd without sealing and a dup too (tests/programs/fd_memfd.c)."""
import ckpt_harness
from fdkind_common import run_kind


def body(h):
    run_kind(h, "fd_memfd", 11, inspect_words=("memfd, 65536 bytes, seals 0x6, mapped shared 1 time",
                                               "memfd, 14 bytes, seals 0x1"))


ckpt_harness.main("fd_memfd", body)
