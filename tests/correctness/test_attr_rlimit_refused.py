#!/usr/bin/python3
"""Issue 9, item 9: a restore that cannot give the program back what it had is refused
before anything is torn down, with one message naming it and exit 88, and the checkpoint is
kept. An unprivileged user (ckpttest) runs the probe under a hard RLIMIT_NOFILE of 4096; the
probe lowers its own to 1024/2048 and checkpoints. Restarted under a hard limit of 1024, which
the user may not raise to 2048, the restore is refused: the message names RLIMIT_NOFILE and
both values. Under 4096 again, the job restores with the program's 1024/2048. Skipped (77)
without a second user."""
import os
import resource

import ckpt_harness
import security_common
from ckpt_harness import check, log
from attrs_common import Probe

EXIT_ATTRS_REFUSED = 88


def under_limit(user, hard):
    drop = security_common.as_user(*user)

    def preexec():
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1024), hard))
        drop()
    return preexec


def body(h):
    user = security_common.other_user()
    p = Probe(h, "rlimit_lower", job="rlimit-refused", user=user)
    p.checkpoint_and_kill(preexec_fn=under_limit(user, 4096))
    before = h.images_snapshot(p.job_path())
    rc, out, err = p.rerun(preexec_fn=under_limit(user, 1024))
    check(rc == EXIT_ATTRS_REFUSED, f"exit {rc}, expected {EXIT_ATTRS_REFUSED}; probe said {out!r}; log:\n{err}")
    lines = [l for l in err.splitlines() if "RLIMIT_NOFILE hard limit 2048 (yours is 1024)" in l]
    check(lines, f"no message names RLIMIT_NOFILE 2048/1024:\n{err}")
    check(h.images_snapshot(p.job_path()) == before, "the checkpoints changed after the refusal")
    log(f"refused: {lines[0]!r}")
    rc, out, err = p.rerun(preexec_fn=under_limit(user, 4096))
    check(rc == 0 and out.startswith("OK "), f"under the old limit: exit {rc}, probe said {out!r}; log:\n{err}")
    log("restored under the old limit")


ckpt_harness.main("attr_rlimit_refused", body)
