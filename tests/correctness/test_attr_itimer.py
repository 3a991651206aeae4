#!/usr/bin/python3
"""Issue 9, item 9: an interval timer (setitimer ITIMER_REAL, 2 s with a 0.5 s interval) comes back with
its interval and no more than the time it had left at the checkpoint (at most 1.5 s less), and
its SIGALRM arrives."""
import attrs_common

attrs_common.one("itimer")
