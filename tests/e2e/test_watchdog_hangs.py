#!/usr/bin/python3
"""Hang detection: (1) a program that stops calling ckpt_heartbeat() (an endless loop) is
found by --heartbeat, (2) a program stopped with SIGSTOP is found by --poll; each is killed,
restarted from its latest checkpoint, and completes with the uninterrupted run's output."""
import os
import signal

import ckpt_harness
import watchdog_common as wd
from ckpt_harness import check, log


def heartbeat_case(h, ref, steps):
    out = h.make_output("out-heartbeat")
    marker = h.path("hung-once")
    argv = [wd.flaky(h, "flaky_heartbeat"), str(steps), "hang", str(steps // 2), marker]
    launcher = h.start("hb", argv, out, interval="150ms",
                       extra=["--watchdog", "--heartbeat", "700ms", "--backoff", "20ms", "--keep",
                              # the marker records that the hang happened: it must survive the
                              # rollback of the program's files to the checkpoint
                              "--exclude", marker])
    rc = launcher.wait(120)
    text = launcher.log_text()
    check(rc == 0, f"ckpt-run exited with {rc}; log:\n{text}")
    check(os.path.exists(marker), "the program never hung (marker missing)")
    check("no heartbeat for 700ms" in text, f"the hang was not reported as a missing heartbeat:\n{text}")
    check(len(wd.restarts_logged(text)) == 1, f"expected exactly one restart:\n{text}")
    check(ckpt_harness.RESTORED_RE.search(text), f"the restart did not restore a checkpoint:\n{text}")
    check(ckpt_harness.read_bytes(out) == ref, "heartbeat case: output differs from the uninterrupted run")
    log("heartbeat: hang detected, restarted from a checkpoint, output identical")


def poll_case(h, ref, steps):
    out = h.make_output("out-poll")
    argv = [wd.flaky(h), str(steps), "from", str(steps + 1)]
    launcher = h.start("poll", argv, out, interval="150ms",
                       extra=["--watchdog", "--poll", "300ms", "--backoff", "20ms", "--keep"])
    h.wait_for_version_above(launcher, 0, "a first checkpoint")
    pid = h.program_pid(launcher)
    os.kill(pid, signal.SIGSTOP)
    log(f"SIGSTOP sent to program pid {pid}")
    rc = launcher.wait(120)
    text = launcher.log_text()
    check(rc == 0, f"ckpt-run exited with {rc}; log:\n{text}")
    check("no answer to the watchdog's poll" in text, f"the stopped program was not reported as hung:\n{text}")
    check(ckpt_harness.RESTORED_RE.search(text), f"the restart did not restore a checkpoint:\n{text}")
    check(ckpt_harness.read_bytes(out) == ref, "poll case: output differs from the uninterrupted run")
    log("poll: stopped program detected, restarted from a checkpoint, output identical")


def body(h):
    steps = 80
    ref = wd.reference(h, steps)
    heartbeat_case(h, ref, steps)
    poll_case(h, ref, steps)


ckpt_harness.main("watchdog_hangs", body)
