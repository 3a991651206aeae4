#!/usr/bin/python3
"""A program stopped with SIGSTOP under --interval 200ms: after more than two intervals the
log and `ckptctl status` say that checkpoints are stalled because the program is stopped;
after SIGCONT checkpoints resume and the stall is reported as over (issue 9, item 7)."""
import os
import signal

import ckpt_harness
import stall_common as sc
from ckpt_harness import check, log


def body(h):
    launcher = h.start("stopped", [h.program("counter"), "100000", "20000"], h.make_output(), interval="200ms")
    first = h.wait_for_version_above(launcher, 0, "a first checkpoint")
    # The launcher's word on it (the image is in place a moment before the runtime reports it).
    h.poll(lambda: int(h.read_status(launcher.job_path).get("last_version", "0")) >= first,
           f"the launcher to record version {first}")
    pid = h.program_pid(launcher)
    os.kill(pid, signal.SIGSTOP)
    try:
        m = h.wait_for_log(launcher, sc.STALL_LOG_RE, "the stall warning", timeout=30)
        log(f"logged: {m.group(0)}")
        check("stopped (SIGSTOP)" in m.group(1), f"the stall's reason does not say the program is stopped: {m.group(1)!r}")
        line = h.poll(lambda: sc.stalled_line(h, "stopped"), "ckptctl status to report the stall", timeout=10)
        log(f"ckptctl status: {line}")
        check("stopped (SIGSTOP)" in line, f"ckptctl status does not say why: {line!r}")
    finally:
        os.kill(pid, signal.SIGCONT)
    m = h.wait_for_log(launcher, sc.RESUMED_LOG_RE, "checkpoints to resume", timeout=30)
    log(f"logged: {m.group(0)}")
    check(int(m.group(1)) > first, f"resumed with version {m.group(1)}, not newer than {first}")
    h.poll(lambda: sc.stalled_line(h, "stopped") is None, "ckptctl status to stop reporting the stall", timeout=10)
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc}; log:\n{launcher.log_text()}")


ckpt_harness.main("stall_sigstop", body)
