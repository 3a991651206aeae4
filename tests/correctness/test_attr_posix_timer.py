#!/usr/bin/python3
"""Issue 9, item 9: two POSIX timers (timer_create: CLOCK_REALTIME SIGEV_NONE, CLOCK_MONOTONIC SIGEV_SIGNAL
SIGUSR1 with a value) come back with the same ids: timer_gettime works on both, the first keeps
its interval and at most the time it had left, the second's signal arrives with its value."""
import attrs_common

attrs_common.one("posix_timer")
