#!/usr/bin/python3
"""Issue 9, item 9: a restore that cannot give the program back what it had is refused
before anything is torn down, with one message naming it and exit 88, and the checkpoint is
kept. An unprivileged user (ckpttest) checkpoints the probe under a hard RLIMIT_NOFILE of
4096 and restarts the job under a hard limit of 1024, which it may not raise: the message
names RLIMIT_NOFILE and both values. Back under 4096, the job restores. Skipped (77) without
a second user."""
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
    p = Probe(h, "exe", job="rlimit-refused", user=user)
    p.checkpoint_and_kill(preexec_fn=under_limit(user, 4096))
    before = h.images_snapshot(p.job_path())
    rc, out, err = p.rerun(preexec_fn=under_limit(user, 1024))
    check(rc == EXIT_ATTRS_REFUSED, f"exit {rc}, expected {EXIT_ATTRS_REFUSED}; probe said {out!r}; log:\n{err}")
    lines = [l for l in err.splitlines() if "RLIMIT_NOFILE hard limit 4096 (yours is 1024)" in l]
    check(lines, f"no message names RLIMIT_NOFILE 4096/1024:\n{err}")
    check(h.images_snapshot(p.job_path()) == before, "the checkpoints changed after the refusal")
    log(f"refused: {lines[0]!r}")
    rc, out, err = p.rerun(preexec_fn=under_limit(user, 4096))
    check(rc == 0 and out.startswith("OK "), f"under the old limit: exit {rc}, probe said {out!r}; log:\n{err}")
    log("restored under the old limit")


ckpt_harness.main("attr_rlimit_refused", body)
