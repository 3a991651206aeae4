"""A job whose newest epoch changed files (filer: an in-place overwrite and an atomic-save
rename at every step), killed: what the damaged-undo and crafted-image tests start from."""
import os

import ckpt_harness
from ckpt_harness import check

STEPS, STEP_US = "150", "20000"


def make_work(h, name):
    work = h.path(name)
    os.makedirs(work)
    for n, data in (("data", b"initial data\n" + b"d" * 4000), ("config", b"config 0\n"), ("mapped", b"M" * 4096)):
        with open(os.path.join(work, n), "wb") as f:
            f.write(data)
    return work


def argv_for(h, work):
    return [h.program("filer"), work, STEPS, STEP_US]


def newest_epoch_files(job_path, version):
    log = os.path.join(job_path, f"pct-{version:06d}.log")
    undo = os.path.join(job_path, f"undo-{version:06d}")
    return log, undo


def run_and_kill_with_changes(h, job, work, extra=()):
    """Runs filer until version 1 exists and its epoch has a kept copy, then SIGKILLs it.
    Returns (launcher, newest version)."""
    launcher = h.start(job, argv_for(h, work), h.make_output(f"{job}.out"), interval="1s", extra=extra)
    h.wait_for_version_above(launcher, 0)

    def changed():
        v = h.versions(launcher.job_path)[-1]
        log, undo = newest_epoch_files(launcher.job_path, v)
        return v if os.path.isdir(undo) and os.listdir(undo) and os.path.getsize(log) > 400 else None
    h.poll(changed, "a kept copy in the newest epoch")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill; log:\n{launcher.log_text()}")
    return launcher, h.versions(launcher.job_path)[-1]


def snapshot(work):
    out = {}
    for n in sorted(os.listdir(work)):
        p = os.path.join(work, n)
        st = os.lstat(p)
        with open(p, "rb") as f:
            out[n] = (st.st_ino, st.st_mode, f.read())
    return out
