#!/usr/bin/python3
"""Issue 10: eventfds come back with their counters (read without consuming them, one above
32 bits), EFD_SEMAPHORE, EFD_NONBLOCK and close-on-exec, and a dup stays the same eventfd
(tests/programs/fd_eventfd.c checks each from inside after the restore)."""
import ckpt_harness
from fdkind_common import run_kind


def body(h):
    run_kind(h, "fd_eventfd", 6, inspect_words=("eventfd, counter 7", "eventfd, counter 3, semaphore",
                                                "eventfd, counter 4294967301"))


ckpt_harness.main("fd_eventfd", body)
