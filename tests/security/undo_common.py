"""A job whose newest epoch changed files (filer: an in-place overwrite and an atomic-save
rename at every step), killed: what the damaged-undo and crafted-image tests start from."""
import json
import os
import shutil
import subprocess

import ckpt_harness
from ckpt_harness import check
import security_common

STEPS, STEP_US = "150", "20000"
ATTEMPTS = 5


def make_work(h, name):
    work = h.path(name)
    os.makedirs(work)
    fill_work(work)
    return work


def fill_work(work):
    for n in os.listdir(work):
        os.unlink(os.path.join(work, n))
    for n, data in (("data", b"initial data\n" + b"d" * 4000), ("config", b"config 0\n"), ("mapped", b"M" * 4096)):
        with open(os.path.join(work, n), "wb") as f:
            f.write(data)


def argv_for(h, work):
    return [h.program("filer"), work, STEPS, STEP_US]


def newest_epoch_files(job_path, version):
    log = os.path.join(job_path, f"pct-{version:06d}.log")
    undo = os.path.join(job_path, f"undo-{version:06d}")
    return log, undo


def open_paths(h, image):
    r = subprocess.run([security_common.ckptctl(h), "inspect", image, "--json"], capture_output=True, text=True, env=h.env,
                       timeout=60)
    check(r.returncode == 0, f"ckptctl inspect {image} exited with {r.returncode}:\n{r.stdout}{r.stderr}")
    return [f["path"] for f in json.loads(r.stdout)["fds"] if f["path"]]


def run_and_kill_with_changes(h, job, work, extra=()):
    """Runs filer until version 1 exists and its epoch has a kept copy, then SIGKILLs it.
    Returns (launcher, newest version). The tests damage the undo data of that version's epoch
    and expect a rerun without it to go ahead; a checkpoint taken in filer's short window with
    config.tmp open needs that epoch's undo (the rename) to reopen it, and would rightly be
    refused. When the newest version is such one, the job is run again from the start."""
    for attempt in range(1, ATTEMPTS + 1):
        launcher, version = run_and_kill_once(h, job, work, extra)
        held = [p for p in open_paths(h, h.image_path(launcher.job_path, version)) if p.endswith("/config.tmp")]
        if not held:
            return launcher, version
        ckpt_harness.log(f"{job}: version {version} was taken with {held[0]} open; attempt {attempt} again")
        shutil.rmtree(launcher.job_path)
        fill_work(work)
    check(False, f"{job}: in {ATTEMPTS} runs the newest version always had config.tmp open")


def run_and_kill_once(h, job, work, extra):
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
