#!/usr/bin/python3
"""Issue 9, item 6: a program that resets every signal to SIG_DFL, or blocks every signal,
must neither be killed by the next checkpoint signal nor starve the checkpoints.

sigreset dfl (sigaction SIG_DFL on 1..64) and sigreset block (sigprocmask of a full set) run
under ckpt-run; checkpoints must go on (new versions appear), each is killed twice and
resumed, and the last run must end with the output of an uninterrupted run, including its
own check that it still sees what it asked for ("view ok": every disposition SIG_DFL, every
signal blocked).
"""
import ckpt_harness
from ckpt_harness import check


def body(h):
    for mode in ("dfl", "block"):
        argv = [h.program("sigreset"), mode, "60", "50000"]
        reference, _ = h.reference(argv, name=f"{mode}.reference")
        check(reference.endswith(b"view ok\n"), f"the plain run of sigreset {mode} ended {reference[-40:]!r}")
        h.kill_and_resume(argv, job=f"sigreset-{mode}", kills=2, reference=reference)


ckpt_harness.main("signal_reset", body)
