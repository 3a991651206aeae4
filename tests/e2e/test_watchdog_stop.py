#!/usr/bin/python3
"""ckpt-run --watchdog stopped with SIGTERM or SIGINT stops its program first, does not
restart it, keeps the last good checkpoint and leaves no process behind; a program that
ignores the signal is SIGKILLed after --stop-timeout."""
import os
import signal

import ckpt_harness
import watchdog_common as wd
from ckpt_harness import check, log


def stop_case(h, sig, job):
    argv = [wd.flaky(h), "100000", "from", "100001"]
    launcher = h.start(job, argv, None, interval="100ms", extra=["--watchdog", "--stop-timeout", "2s"])
    h.wait_for_version_above(launcher, 0, "a first checkpoint")
    pid = h.program_pid(launcher)
    before = h.images_snapshot(launcher.job_path)
    os.kill(launcher.pid, sig)
    rc = launcher.wait(30)
    text = launcher.log_text()
    check(rc == 128 + sig, f"{signal.Signals(sig).name}: expected exit {128 + sig}, got {rc}; log:\n{text}")
    check(not ckpt_harness.is_alive(pid), f"program pid {pid} is still alive after ckpt-run ended")
    check(ckpt_harness.children_of(os.getpid()) == [], "a process was left behind")
    check("restart" not in text, f"a stop request must not restart the program:\n{text}")
    after = h.images_snapshot(launcher.job_path)
    check(after and all(after.get(v) == d for v, d in before.items() if v in after),
          "the checkpoints changed or vanished")
    log(f"{signal.Signals(sig).name}: program stopped, nothing left behind, versions {sorted(after)} kept")


def body(h):
    stop_case(h, signal.SIGTERM, "term")
    stop_case(h, signal.SIGINT, "int")


ckpt_harness.main("watchdog_stop", body)
