#!/usr/bin/python3
"""Issue 10, "what it must show" 5: two threads writing files (two_writers.c: each appends
numbered lines to its own file with O_APPEND, so a write done twice shows as a line twice) under
ckpt-run --interval 5ms while the main thread waits for them; after a SIGKILL, restores from
several randomly chosen retained versions (the job directory and the files as the kill left
them, newer versions removed) must each recover the files to the checkpoint and run to the end
with every line once, in order: memory (each thread's count and descriptor) and files at one
point. A checkpoint taken while a thread is inside a write wrapper's check-record-change
section (persist.h) would put the check in one epoch and the write in the next, unrecorded:
the recovery would keep that line and the restored thread would write it again."""
import os
import shutil
import subprocess
import time

import ckpt_harness
from ckpt_harness import check, log

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "two_writers.c")
LINES = "150000"
RESTORES = 6


def body(h):
    exe = h.path("two_writers")
    r = subprocess.run(["cc", "-O1", "-g", "-Wall", "-pthread", "-o", exe, SOURCE], capture_output=True, text=True)
    check(r.returncode == 0, f"cannot compile two_writers.c:\n{r.stderr}")
    ref_dir, work = h.path("ref"), h.path("work")
    os.makedirs(ref_dir)
    os.makedirs(work)
    reference, _ = h.reference([exe, ref_dir, LINES])
    files = ("a.txt", "b.txt")
    ref_files = {f: ckpt_harness.read_bytes(os.path.join(ref_dir, f)) for f in files}

    argv = [exe, work, LINES]
    extra = ["--max-overhead", "0", "--retain", "60", "--keep"]
    out = h.make_output("writers.out")
    launcher = h.start("writers", argv, out, interval="5ms", extra=extra)
    job = launcher.job_path
    # Until enough checkpoints of the writing are there (or the program is done: then the
    # kill below finds it gone and the last versions are from the writing still).
    h.poll(lambda: launcher.poll() is not None or len(h.versions(job)) >= 40, "40 checkpoints of the writers")
    if launcher.poll() is None:
        rc = h.kill_program(launcher)
        check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill")
    else:
        check(launcher.rc == 0, f"the writers failed under ckpt-run (exit {launcher.rc}); log tail:\n"
              f"{launcher.log_text()[-3000:]}")
    versions = h.versions(job)
    check(len(versions) >= 10, f"only {len(versions)} checkpoints retained")
    log(f"killed after {len(versions)} retained checkpoints ({versions[0]}..{versions[-1]})")

    snapshot = h.path("snapshot")
    shutil.copytree(job, snapshot, symlinks=True)
    saved = {f: ckpt_harness.read_bytes(os.path.join(work, f)) for f in files if os.path.exists(os.path.join(work, f))}
    # Not the first versions: one taken before a thread created its file would have the
    # recovery delete it, and the restored program create it again under another inode, which
    # the restores after it would then find instead of the file their images opened.
    later = versions[len(versions) // 4:]
    picks = sorted(h.rng.sample(later, min(RESTORES, len(later))))
    for v in picks:
        shutil.rmtree(job)
        shutil.copytree(snapshot, job, symlinks=True)
        for f in files:
            p = os.path.join(work, f)
            if f in saved:
                with open(p, "wb") as fh:
                    fh.write(saved[f])
            elif os.path.exists(p):
                os.unlink(p)
        open(out, "wb").close()
        for newer in versions:
            if newer > v:
                os.unlink(h.image_path(job, newer))
        again = h.start("writers", argv, out, interval="1h", extra=extra)
        m = h.wait_for_log(again, ckpt_harness.RESTORED_RE.pattern, f"the restore from version {v}")
        check(int(m.group(1)) == v, f"restored version {m.group(1)}, expected {v}")
        rc = again.wait(240)
        said = ckpt_harness.read_bytes(out).decode(errors="replace")
        check(rc == 0, f"the run restored from version {v} exited with {rc}; it said:\n{said}\nlog tail:\n"
              f"{again.log_text()[-2000:]}")
        for f in files:
            check(ckpt_harness.read_bytes(os.path.join(work, f)) == ref_files[f],
                  f"restored from version {v}: {f} differs from the uninterrupted run's; the program said:\n{said}")
        log(f"restored from version {v}: both files recovered and completed, every line once")
    shutil.rmtree(job)


ckpt_harness.main("undo_two_writers", body)
