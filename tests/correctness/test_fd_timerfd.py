#!/usr/bin/python3
"""Issue 10: timerfds come back with clock, flags, time left (a relative timer fires when
timerfd_gettime says, the time the program was dead not counted), interval, an absolute
CLOCK_REALTIME deadline with TFD_TIMER_CANCEL_ON_SET, unread expirations, and a dup stays the
same timerfd (tests/programs/fd_timerfd.c)."""
import ckpt_harness
from fdkind_common import run_kind


def body(h):
    run_kind(h, "fd_timerfd", 9, inspect_words=("timerfd, clock 1, expires in", "(cancel on set)",
                                                "5 unread expirations", "timerfd, clock 7, disarmed"))


ckpt_harness.main("fd_timerfd", body)
