#!/usr/bin/python3
"""Images that are not yours (issue 8, defect 3). As root: a job is checkpointed and killed;
then a newer image is planted in its job directory, (1) owned by another user (ckpttest), (2)
owned by root but mode 0644. The rerun must refuse it with exit 87 (kUntrusted) and a message
naming the file, its owner and mode; the program must not run, nothing may be rolled back, and
the job directory and output must stay as they were."""
import os
import shutil

import ckpt_harness
from ckpt_harness import check
import security_common

UNTRUSTED = 87


def body(h):
    if os.geteuid() != 0:
        security_common.skip("needs root (an image planted by another user in root's job directory)")
    uid, gid = security_common.other_user()
    argv = [h.program("counter"), "60", "50000"]
    out = h.make_output()
    first = h.run_and_kill_after_checkpoints("job", argv, out, min_versions=1)
    newest = h.versions(first.job_path)[-1]
    planted = h.image_path(first.job_path, newest + 1)
    for case, owner, mode in (("another user's", (uid, gid), 0o600), ("a group/world-readable", (0, 0), 0o644)):
        shutil.copyfile(h.image_path(first.job_path, newest), planted)
        os.chown(planted, *owner)
        os.chmod(planted, mode)
        job_before = security_common.tree_snapshot(first.job_path)
        out_before = ckpt_harness.read_bytes(out)
        second = h.start("job", argv, out)
        rc = second.wait()
        log = second.log_text()
        check(rc == UNTRUSTED, f"{case} image: rerun exited with {rc}, expected {UNTRUSTED}; log:\n{log}")
        check(planted in log and "untrusted" in log and f"{mode:04o}" in log,
              f"{case} image: the message does not name the file and its mode; log:\n{log}")
        if owner[0] != 0:
            check(security_common.OTHER_USER in log or f"uid {uid}" in log,
                  f"{case} image: the message does not name the owner; log:\n{log}")
        check(second.restored_version() is None and not second.started_fresh(),
              f"{case} image: the program ran; log:\n{log}")
        check(ckpt_harness.read_bytes(out) == out_before, f"{case} image: the output changed")
        after = security_common.tree_snapshot(first.job_path)
        for rel, entry in job_before.items():
            if rel.startswith(("pct-", "undo-", "ckpt-")):
                check(after.get(rel) == entry, f"{case} image: {rel} was changed or removed (rolled back?)")
        ckpt_harness.log(f"{case} image refused with exit {UNTRUSTED}; nothing ran or changed")
    os.unlink(planted)


ckpt_harness.main("planted_image", body)
