#!/usr/bin/python3
"""Issue 10: a signalfd comes back with its mask and flags and gets the signals after the
restore (also through a dup); the program named ckpt's checkpoint signal in the signalfd's
mask, and checkpoints still happen (the test waits for one), because the kernel's mask never
holds it (interpose/signal_wrappers.cpp); ckptctl inspect shows the kernel's mask
(SIGUSR1 10, SIGUSR2 12, not 63)."""
import ckpt_harness
from fdkind_common import run_kind


def body(h):
    run_kind(h, "fd_signalfd", 4, inspect_words=("signalfd, signals 10,12\n",))


ckpt_harness.main("fd_signalfd", body)
