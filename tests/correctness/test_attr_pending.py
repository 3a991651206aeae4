#!/usr/bin/python3
"""Issue 9, item 9: signals pending at the checkpoint are pending after the restore, in the same queue:
SIGUSR1 directed at the thread (tgkill), SIGTERM and two queued SIGRTMIN+2 at the process, the
real-time ones in order with their siginfo (SI_QUEUE, value, the sender's pid)."""
import attrs_common

attrs_common.one("pending")
