"""What the watchdog tests share: running tests/programs/flaky under ckpt-run --watchdog."""
import os
import re
import subprocess

import ckpt_harness
from ckpt_harness import check

RESTART_RE = re.compile(r"restart (\d+) of job")


def flaky(h, name="flaky"):
    return os.path.join(h.programs, name)


def reference(h, steps):
    """The uninterrupted output of `flaky STEPS from STEPS+1` (never fails)."""
    out, _ = h.reference([flaky(h), str(steps), "from", str(steps + 1)])
    return out


def ckptctl(h):
    return os.path.join(os.path.dirname(h.ckpt_run), "ckptctl")


def status_text(h, job):
    r = subprocess.run([ckptctl(h), "--dir", h.path("ckpt"), "status", job], capture_output=True, text=True)
    check(r.returncode == 0, f"ckptctl status {job} exited with {r.returncode}: {r.stderr}")
    return r.stdout


def restarts_logged(log_text):
    return [int(m.group(1)) for m in RESTART_RE.finditer(log_text)]
