#!/usr/bin/python3
"""Issue 8, defect 2: a root writable by others without the sticky bit is refused (exit 87,
path and mode named, nothing created in it); a sticky shared one (like /tmp) is accepted and
the job directory made in it is the caller's, 0700, with ckpt's marker."""
import os

import ckpt_harness
from ckpt_harness import check

EXIT_UNSAFE_DIR = 87


def body(h):
    for mode in (0o770, 0o777, 0o722):
        root = h.path(f"root-{mode:o}")
        os.mkdir(root)
        os.chmod(root, mode)
        rc, err = h.run_to_exit("job", ["/bin/true"], root=root, verbose=False)
        check(rc == EXIT_UNSAFE_DIR, f"root mode {mode:04o}: exit {rc}, expected {EXIT_UNSAFE_DIR}; stderr:\n{err}")
        check(root in err and f"{mode:04o}" in err, f"the message names neither {root} nor its mode: {err!r}")
        check(os.listdir(root) == [], f"root mode {mode:04o}: something was created: {os.listdir(root)}")
        check(os.stat(root).st_mode & 0o7777 == mode, "the root's mode was changed")
        ckpt_harness.log(f"{mode:04o} refused: {err.strip()!r}")
    shared = h.path("shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    launcher = h.start("job", ["/bin/true"], root=shared, extra=["--keep"])
    rc = launcher.wait()
    check(rc == 0, f"sticky shared root: exit {rc}; log:\n{launcher.log_text()}")
    st = os.lstat(launcher.job_path)
    check(st.st_uid == os.geteuid() and st.st_mode & 0o7777 == 0o700, f"job directory {oct(st.st_mode)} uid {st.st_uid}")
    check(os.path.isfile(os.path.join(launcher.job_path, ".ckpt-job")), "no marker in the new job directory")


ckpt_harness.main("open_root", body)
