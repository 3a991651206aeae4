#!/usr/bin/python3
"""ckpt's own files in a job directory are exactly 0600 whatever the umask (issue 8, defect 3:
readers refuse anything else, so ckpt must never make its own files unreadable to itself or
readable to others). Under umask 0277 a job checkpoints, changes files and is killed: every
image, PCT log and recovery progress file is mode 0600, and the rerun restores."""
import os
import stat

import ckpt_harness
from ckpt_harness import check
import undo_common


def body(h):
    work = undo_common.make_work(h, "work")
    old = os.umask(0o277)
    try:
        first, version = undo_common.run_and_kill_with_changes(h, "job", work)
    finally:
        os.umask(old)
    seen = []
    for n in sorted(os.listdir(first.job_path)):
        if n.startswith(("ckpt-", "pct-")):
            mode = stat.S_IMODE(os.lstat(os.path.join(first.job_path, n)).st_mode)
            check(mode == 0o600, f"{n} has mode {mode:04o} under umask 0277, expected 0600")
            seen.append(n)
    check(any(n.endswith(".img") for n in seen) and any(n.endswith(".log") for n in seen), f"files seen: {seen}")
    second = h.start("job", undo_common.argv_for(h, work), h.make_output("out2"), interval="1s")
    rc = second.wait()
    check(rc == 0 and second.restored_version() == version, f"rerun exited {rc}; log:\n{second.log_text()}")
    ckpt_harness.log(f"all 0600 under umask 0277: {seen}; restored version {version}")


ckpt_harness.main("own_file_modes", body)
