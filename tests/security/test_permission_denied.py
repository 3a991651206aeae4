#!/usr/bin/python3
"""Issue 8, defect 9: a user without permission on the checkpoint root or a job directory
is told "permission denied", naming the path (exit 77), not "no jobs" or "no job named".
root's 0700 root is listed by the second user (ckpttest); skipped without one."""
import os
import subprocess

import ckpt_harness
import security_common
from ckpt_harness import check

EXIT_NO_PERMISSION = 77


def body(h):
    uid, gid = security_common.other_user()
    os.chmod(h.tmp, 0o755)
    root = h.path("ckpt")
    launcher = h.start("job", ["/bin/true"], root=root, extra=["--keep"])
    check(launcher.wait() == 0, f"preparing the job: {launcher.log_text()}")
    check(os.stat(root).st_mode & 0o777 == 0o700, "the root is not 0700")
    before = security_common.tree_snapshot(root)

    def as_other(*args):
        return subprocess.run([security_common.ckptctl(h), "--dir", root, *args], capture_output=True, text=True,
                              env=h.env, cwd="/", timeout=60, preexec_fn=security_common.as_user(uid, gid))

    for args in (["list"], ["status", "job"], ["list", "job"], ["rm", "job"]):
        r = as_other(*args)
        out = r.stdout + r.stderr
        check(r.returncode == EXIT_NO_PERMISSION,
              f"ckptctl {' '.join(args)} as {security_common.OTHER_USER}: exit {r.returncode}, expected "
              f"{EXIT_NO_PERMISSION}; output {out!r}")
        check("permission denied" in out and root in out, f"the message does not say permission denied on {root}: {out!r}")
        check("no jobs" not in out and "no job named" not in out, f"told there is no job: {out!r}")
        ckpt_harness.log(f"ckptctl {' '.join(args)}: {r.stderr.strip()!r}")

    # Traversable root, job directory closed: the job directory is named.
    os.chmod(root, 0o711)
    r = as_other("status", "job")
    out = r.stdout + r.stderr
    check(r.returncode == EXIT_NO_PERMISSION and launcher.job_path in out and "permission denied" in out,
          f"status of a closed job directory: exit {r.returncode}, {out!r}")
    os.chmod(root, 0o700)
    check(security_common.tree_snapshot(root) == before, "the job changed")


ckpt_harness.main("permission_denied", body)
