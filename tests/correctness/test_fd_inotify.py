#!/usr/bin/python3
"""Issue 10: an inotify instance comes back with its watches re-added by path (one added by a
relative path) under the same watch descriptors: files created after the restore are reported
on watch 1 and 2, the next watch gets number 3 (tests/programs/fd_inotify.c)."""
import ckpt_harness
from fdkind_common import run_kind


def body(h):
    run_kind(h, "fd_inotify", 4, inspect_words=("inotify, watching 1:", "/case/watched mask 0x100",
                                                "2:" ))


ckpt_harness.main("fd_inotify", body)
