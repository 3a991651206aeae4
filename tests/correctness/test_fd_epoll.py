#!/usr/bin/python3
"""Issue 10: an epoll instance comes back with its interest list (targets numbered below and
above it, EPOLLET, EPOLLONESHOT, data words), re-armed after every target is back: epoll_wait
reports the same readiness after the restore as before the checkpoint, then the new events
(tests/programs/fd_epoll.c); a dup of it is the same instance."""
import ckpt_harness
from fdkind_common import run_kind


def body(h):
    run_kind(h, "fd_epoll", 6, inspect_words=("fd 3 events 0x19", "fd 5 events 0x80000019",
                                              "fd 7 events 0x40000019"))


ckpt_harness.main("fd_epoll", body)
