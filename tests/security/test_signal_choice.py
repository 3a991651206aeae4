#!/usr/bin/python3
"""Defect 6 of issue 8: only signals that no fault, terminal or kernel event raises can be the
checkpoint signal. --signal SIGSEGV (and the other fault, terminal and job-control signals) is
refused with exit 64 and a message listing what is accepted, before anything is created; the
accepted ones (SIGUSR2, SIGRTMIN+N, SIGRTMAX-N) still checkpoint and resume."""
import os

import ckpt_harness
from ckpt_harness import check, log
from security_common import tree_snapshot

REFUSED = ["SIGSEGV", "SEGV", "11", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGSYS", "SIGINT", "SIGQUIT",
           "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGHUP", "SIGCONT", "SIGWINCH", "SIGPIPE", "SIGALRM", "SIGCHLD",
           "SIGTERM", "SIGKILL", "SIGSTOP", "SIGUSR1", "SIGXCPU", "32", "33"]


def body(h):
    root = h.path("ckpt")
    os.makedirs(root)
    planted = h.path("ckpt", "keep.txt")
    with open(planted, "wb") as f:
        f.write(b"not ckpt's\n")
    before = tree_snapshot(root)
    for sig in REFUSED:
        rc, err = h.run_to_exit(f"job-{sig}", ["/bin/true"], extra=("--signal", sig))
        check(rc == 64, f"--signal {sig}: exit {rc}, expected 64 (usage); log:\n{err}")
        check("SIGUSR2" in err and "SIGRTMIN" in err, f"--signal {sig}: the message does not list what is accepted: {err!r}")
    check(tree_snapshot(root) == before, "a refused --signal created or changed files in the root")
    log(f"refused: {', '.join(REFUSED)}; e.g. {err.strip().splitlines()[-1]!r}")

    argv = [h.program("counter"), "20", "50000"]
    reference, _ = h.reference(argv)
    for sig in ["SIGUSR2", "SIGRTMIN+2", "SIGRTMAX-3"]:
        out = h.make_output(f"out-{sig}")
        launcher = h.run_and_kill_after_checkpoints(f"ok-{sig}", argv, out, extra=("--signal", sig))
        rc, err = h.run_to_exit(f"ok-{sig}", argv, out, extra=("--signal", sig))
        check(rc == 0 and "restored from checkpoint version" in err, f"--signal {sig}: resume failed ({rc}):\n{err}")
        check(ckpt_harness.read_bytes(out) == reference, f"--signal {sig}: output differs from the reference")
        log(f"--signal {sig}: checkpointed, killed, resumed")
    check(ckpt_harness.read_bytes(planted) == b"not ckpt's\n", "the planted file was changed")


ckpt_harness.main("signal_choice", body)
