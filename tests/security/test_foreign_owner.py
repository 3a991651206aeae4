#!/usr/bin/python3
"""Issue 8, defect 2: a root or job directory that is not the caller's is refused.

  * a job directory owned by another user (ckpttest) in root's checkpoint root: ckpt-run and
    ckptctl rm refuse it (exit 87) with a message naming the path and the owner, and nothing
    in it changes (it used to be chmod-ed 0700 and written into);
  * a root owned by ckpttest: refused the same way, nothing created in it.
Needs a second user (created as root, else the test is skipped).
"""
import os
import subprocess

import ckpt_harness
import security_common
from ckpt_harness import check

EXIT_UNSAFE_DIR = 87


def body(h):
    uid, gid = security_common.other_user()
    os.chmod(h.tmp, 0o755)

    root = h.path("ckpt")
    os.mkdir(root, 0o700)
    job = os.path.join(root, "job")
    os.mkdir(job, 0o755)
    with open(os.path.join(job, "ckpt-000001.img"), "wb") as f:
        f.write(b"planted by someone else")
    with open(os.path.join(job, ".ckpt-job"), "wb") as f:
        f.write(b"ckpt job directory\nformat 1\n")
    for dirpath, dirnames, filenames in os.walk(job):
        for n in [dirpath] + [os.path.join(dirpath, x) for x in filenames]:
            os.lchown(n, uid, gid)
    before = security_common.tree_snapshot(job)
    mode = os.stat(job).st_mode

    marker = h.path("program-ran")
    rc, err = h.run_to_exit("job", ["/bin/sh", "-c", f"touch {marker}"], root=root, verbose=False)
    check(rc == EXIT_UNSAFE_DIR, f"foreign job directory: exit {rc}, expected {EXIT_UNSAFE_DIR}; stderr:\n{err}")
    check(job in err and security_common.OTHER_USER in err, f"message names neither {job} nor the owner: {err!r}")
    check(not os.path.exists(marker), "the program ran (or was restored) from a foreign job directory")
    check(security_common.tree_snapshot(job) == before and os.stat(job).st_mode == mode,
          "the foreign job directory changed")
    ckpt_harness.log(f"foreign job directory refused: {err.strip()!r}")

    r = subprocess.run([security_common.ckptctl(h), "--dir", root, "rm", "job"], capture_output=True, text=True,
                       env=h.env, timeout=60)
    check(r.returncode == EXIT_UNSAFE_DIR, f"ckptctl rm of a foreign job: exit {r.returncode}; {r.stderr!r}")
    check(security_common.OTHER_USER in r.stderr, f"ckptctl's message does not name the owner: {r.stderr!r}")
    check(security_common.tree_snapshot(job) == before, "ckptctl rm changed the foreign job directory")

    # A root owned by the other user.
    foreign_root = h.path("their-root")
    os.mkdir(foreign_root, 0o755)
    os.chown(foreign_root, uid, gid)
    rc, err = h.run_to_exit("job", ["/bin/true"], root=foreign_root, verbose=False)
    check(rc == EXIT_UNSAFE_DIR, f"foreign root: exit {rc}, expected {EXIT_UNSAFE_DIR}; stderr:\n{err}")
    check(foreign_root in err and security_common.OTHER_USER in err, f"message names neither root nor owner: {err!r}")
    check(os.listdir(foreign_root) == [], f"something was created in the foreign root: {os.listdir(foreign_root)}")
    ckpt_harness.log(f"foreign root refused: {err.strip()!r}")


ckpt_harness.main("foreign_owner", body)
