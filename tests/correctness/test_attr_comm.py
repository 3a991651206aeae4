#!/usr/bin/python3
"""Issue 9, item 9: the thread name the program set (PR_SET_NAME probe-name) is /proc/self/comm after a
restore, not ckpt-restore."""
import attrs_common

attrs_common.one("comm")
