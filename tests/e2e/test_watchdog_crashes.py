#!/usr/bin/python3
"""A program that crashes at random moments (SIGSEGV or SIGABRT it raises itself) runs under
ckpt-run --watchdog to completion; on top, SIGKILLs from outside at random moments. The
output must equal an uninterrupted run's byte for byte, and the log and `ckptctl status`
report the restarts and their causes."""
import os
import signal

import ckpt_harness
import watchdog_common as wd
from ckpt_harness import check, log


def body(h):
    steps = 150
    ref = wd.reference(h, steps)
    out = h.make_output()
    # 1 in 20 steps crashes: a run without any self-inflicted crash (which the test needs)
    # has a probability below 0.1 %.
    argv = [wd.flaky(h), str(steps), "random", "20"]
    launcher = h.start("job", argv, out, interval="150ms",
                       extra=["--watchdog", "--max-restarts", "100", "--restart-window", "2s",
                              "--backoff", "20ms", "--keep"])
    # Two SIGKILLs from outside as well, each after a new checkpoint exists.
    for k in range(2):
        v = h.versions(launcher.job_path)
        h.wait_for_version_above(launcher, v[-1] if v else 0, "a checkpoint before an outside kill")
        h.wait_for_version_above(launcher, (h.versions(launcher.job_path) or [0])[-1], "one more checkpoint")
        try:
            pid = h.program_pid(launcher)
            os.kill(pid, signal.SIGKILL)
            log(f"outside SIGKILL {k + 1} to program pid {pid}")
        except (ProcessLookupError, ckpt_harness.TestFailure):
            pass  # it crashed by itself or ended at that very moment
    rc = launcher.wait(240)
    text = launcher.log_text()
    check(rc == 0, f"ckpt-run exited with {rc}; log:\n{text}")
    check(ckpt_harness.read_bytes(out) == ref,
          "output differs from the uninterrupted run: " + ckpt_harness.describe_difference(ref, ckpt_harness.read_bytes(out)))
    restarts = wd.restarts_logged(text)
    check(len(restarts) >= 3, f"expected several restarts, the log shows {len(restarts)}:\n{text}")
    check("killed by SIGKILL" in text, "the outside SIGKILLs are not reported as restart causes")
    check("killed by SIGSEGV" in text or "killed by SIGABRT" in text, "no self-inflicted crash was restarted")
    status = wd.status_text(h, "job")
    check(f"restarts:         {len(restarts)}" in status, f"ckptctl status does not report {len(restarts)} restarts:\n{status}")
    check("restart causes:" in status and "killed by" in status, f"ckptctl status has no causes:\n{status}")
    log(f"{len(restarts)} restarts; output identical; status:\n{status}")


ckpt_harness.main("watchdog_crashes", body)
