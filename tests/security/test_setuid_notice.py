#!/usr/bin/python3
"""Defect 9 of issue 8 (set-user-ID programs): the dynamic linker ignores LD_PRELOAD for a
program that runs in secure mode, so it gets no checkpoints. ckpt-run says so in a warning at
start instead of silently taking none. (Run as root: a copy of the counter owned by the second
user with mode 4755 runs set-user-ID.)"""
import os
import shutil

import ckpt_harness
from ckpt_harness import check, log
from security_common import other_user


def body(h):
    uid, gid = other_user()
    suid = h.path("suid-counter")
    shutil.copy(h.program("counter"), suid)
    os.chown(suid, uid, gid)
    os.chmod(suid, 0o4755)
    os.chmod(h.tmp, 0o755)
    out = h.make_output()
    rc, err = h.run_to_exit("suid", [suid, "3", "10000"], out)
    check(rc == 0, f"exit {rc}; log:\n{err}")
    check("set-user-ID" in err and "without checkpoints" in err, f"no warning about the set-user-ID program; log:\n{err}")
    log([l for l in err.splitlines() if "set-user-ID" in l][0])
    # An ordinary program gets no such warning.
    rc, err = h.run_to_exit("plain", [h.program("counter"), "3", "10000"], h.make_output("plain.out"))
    check(rc == 0 and "secure mode" not in err, f"an ordinary program was warned about ({rc}):\n{err}")


ckpt_harness.main("setuid_notice", body)
