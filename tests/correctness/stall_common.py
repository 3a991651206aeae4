"""What the stall tests share: `ckptctl status` of a job, and its STALLED line."""
import os
import re
import subprocess

from ckpt_harness import check

STALL_LOG_RE = r"checkpoints stalled: none for \S+, more than twice the interval \(\S+\): (.*)"
RESUMED_LOG_RE = r"checkpoints resumed: version (\d+) committed; the stall is over"


def ckptctl_status(h, job):
    ckptctl = os.path.join(os.path.dirname(h.ckpt_run), "ckptctl")
    r = subprocess.run([ckptctl, "--dir", h.path("ckpt"), "status", job], capture_output=True, text=True)
    check(r.returncode == 0, f"ckptctl status {job} exited with {r.returncode}: {r.stderr}")
    return r.stdout


def stalled_line(h, job):
    """The STALLED line of `ckptctl status`, or None."""
    m = re.search(r"^STALLED:.*$", ckptctl_status(h, job), re.M)
    return m.group(0) if m else None
