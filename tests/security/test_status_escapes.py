#!/usr/bin/python3
"""Issue 8, defect 9: `ckptctl list` and `ckptctl status` never print raw control bytes from
the status file (a terminal escape sequence in a state or an error would rewrite the
user's screen): they appear escaped (\\x1b), and the status file itself is left as it was."""
import os
import re
import subprocess

import ckpt_harness
import security_common
from ckpt_harness import check

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def body(h):
    root = h.path("ckpt")
    launcher = h.start("job", ["/bin/true"], root=root, extra=["--keep"])
    check(launcher.wait() == 0, f"preparing the job: {launcher.log_text()}")
    status = os.path.join(launcher.job_path, "status")
    evil = "\x1b[2J\x1b]0;owned\x07"
    text = (f"state=crashed{evil}\nlauncher_pid=0\nprogram_pid=0\nprogram=/bin/true{evil}\n"
            f"last_error=disk{evil}\\rgone\nrestart_causes=x\x1b[31my\nlast_version=0\n")
    with open(status, "w") as f:
        f.write(text)
    for argv in (["list"], ["list", "job"], ["status", "job"]):
        r = subprocess.run([security_common.ckptctl(h), "--dir", root, *argv], capture_output=True, text=True,
                           env=h.env, timeout=60)
        check(r.returncode == 0, f"ckptctl {argv}: exit {r.returncode}: {r.stderr!r}")
        bad = CONTROL.findall(r.stdout + r.stderr)
        check(not bad, f"ckptctl {' '.join(argv)} printed raw control bytes {bad!r}:\n{r.stdout!r}")
        ckpt_harness.log(f"ckptctl {' '.join(argv)}: {r.stdout.strip()!r}")
        if argv[0] == "status" or argv == ["list"]:
            check("\\x1b" in r.stdout, f"the escape byte is not shown escaped: {r.stdout!r}")
    with open(status) as f:
        check(f.read() == text, "ckptctl changed the status file")


ckpt_harness.main("status_escapes", body)
