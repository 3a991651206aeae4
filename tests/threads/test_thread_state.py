#!/usr/bin/python3
"""Issue 10: one kind of per-thread state (THREAD_STATE_MODE, see thread_state.c) survives
checkpoints of the whole process and restores after SIGKILL.

thread_state MODE 6000 is compiled from tests/threads/thread_state.c with the system compiler,
run once without ckpt (the reference), then under ckpt-run --interval 200ms, SIGKILLed at a
random moment after a new checkpoint three times and resumed by running the same command; the
final output must equal the reference byte for byte. The program itself checks its state at
every step of 2 ms (a changed mask, alternate stack, thread-local value, thread id, vector
register, MXCSR, a short sleep, an EINTR, a byte out of order, a turn out of order, a lost
recursive mutex) and prints "MODE FAIL: ..." and exits 1 on the first difference, which the
comparison with the reference then reports.
"""
import os
import subprocess

import ckpt_harness
from ckpt_harness import check, log

MODE = os.environ.get("THREAD_STATE_MODE", "")
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "thread_state.c")


def body(h):
    check(MODE, "THREAD_STATE_MODE is not set")
    exe = h.path("thread_state")
    r = subprocess.run(["cc", "-O1", "-g", "-Wall", "-pthread", "-o", exe, SOURCE], capture_output=True, text=True)
    check(r.returncode == 0, f"cannot compile thread_state.c:\n{r.stderr}")
    restored = h.kill_and_resume([exe, MODE, "6000"], job=f"state-{MODE}")
    log(f"{MODE}: restored {len(restored)} times, output identical to the uninterrupted run")


ckpt_harness.main(f"thread_state_{MODE}", body)
