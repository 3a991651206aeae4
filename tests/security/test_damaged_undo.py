#!/usr/bin/python3
"""Damaged or missing undo data (issue 8, defect 5). A program checkpoints, then changes files
(in-place overwrite, atomic-save rename), and is killed. Then, each in its own job:
  (a) a byte of the kept copy of the replaced file is flipped,
  (b) the newest PCT log is deleted, or truncated,
  (c) a record of the newest log is damaged (its checksum fails).
The rerun must not restore memory with files out of step: it stops with exit 83 (kUndoFailed)
and a message naming the damage, nothing rolled back, the program not run, the files exactly
as they were; `ckptctl verify` reports it with a nonzero exit. With --on-undo-failure=proceed
the rerun goes ahead and says what it did not roll back."""
import os
import subprocess

import ckpt_harness
from ckpt_harness import check
import security_common
import undo_common

UNDO_FAILED = 83


def flip(path, offset):
    ckpt_harness.flip_byte(path, offset, 0x20)


def damage_kept_copy(job_path, version):
    _, undo = undo_common.newest_epoch_files(job_path, version)
    kept = sorted(os.listdir(undo))
    check(kept, f"no kept copy in {undo}")
    flip(os.path.join(undo, kept[0]), 2)
    return f"flipped a byte of {undo}/{kept[0]}", "kept copy"


def delete_log(job_path, version):
    log, _ = undo_common.newest_epoch_files(job_path, version)
    os.unlink(log)
    return f"deleted {log}", "is missing"


def truncate_log(job_path, version):
    log, _ = undo_common.newest_epoch_files(job_path, version)
    os.truncate(log, 40)
    return f"truncated {log} to 40 bytes", "truncated"


def damage_record(job_path, version):
    log, _ = undo_common.newest_epoch_files(job_path, version)
    flip(log, 64 + 128 + 3)  # a byte of the first record's path
    return f"flipped a byte of the first record of {log}", "fails its checksum"


def one_case(h, name, damage):
    work = undo_common.make_work(h, f"work-{name}")
    first, version = undo_common.run_and_kill_with_changes(h, name, work)
    what, expected = damage(first.job_path, version)
    ckpt_harness.log(f"{name}: version {version}; {what}")
    before = undo_common.snapshot(work)
    job_before = security_common.tree_snapshot(first.job_path)

    # ckptctl verify reports it.
    r = subprocess.run([security_common.ckptctl(h), "--dir", h.path("ckpt"), "verify", name],
                       capture_output=True, text=True, env=h.env)
    check(r.returncode != 0, f"{name}: ckptctl verify exited 0 after: {what}; output:\n{r.stdout}{r.stderr}")
    check(expected in r.stdout, f"{name}: ckptctl verify does not say {expected!r}; output:\n{r.stdout}{r.stderr}")

    # The recovery stops, changing nothing.
    second = h.start(name, undo_common.argv_for(h, work), h.make_output(f"{name}.out2"), interval="1s")
    rc = second.wait()
    log = second.log_text()
    check(rc == UNDO_FAILED, f"{name}: rerun exited with {rc}, expected {UNDO_FAILED}, after: {what}; log:\n{log}")
    check(expected in log and "Nothing was rolled back" in log, f"{name}: the message does not name the damage; log:\n{log}")
    check(second.restored_version() is None and not second.started_fresh(),
          f"{name}: the program ran; log:\n{log}")
    check(undo_common.snapshot(work) == before, f"{name}: the files were changed by a refused recovery")
    after = security_common.tree_snapshot(first.job_path)
    for rel, entry in job_before.items():
        if rel.startswith(("pct-", "undo-", "ckpt-")):
            check(after.get(rel) == entry, f"{name}: {rel} in the job directory was changed or removed")

    # --on-undo-failure=proceed: accepted explicitly, said, and the program goes on.
    third = h.start(name, undo_common.argv_for(h, work), h.make_output(f"{name}.out3"), interval="1s",
                    extra=["--on-undo-failure=proceed"])
    rc = third.wait()
    log = third.log_text()
    check(rc == 0, f"{name}: with --on-undo-failure=proceed the rerun exited with {rc}; log:\n{log}")
    check("NOT rolled back" in log and "accepted as lost" in log, f"{name}: the loss is not reported; log:\n{log}")
    check(third.restored_version() == version, f"{name}: restored {third.restored_version()}, expected {version}; log:\n{log}")
    ckpt_harness.log(f"{name}: refused with exit {UNDO_FAILED}, files untouched, verify nonzero; proceed went ahead")


def body(h):
    only = os.environ.get("CKPT_TEST_CASES", "").split(",")  # to run some cases alone
    for name, damage in (("kept", damage_kept_copy), ("deleted", delete_log), ("truncated", truncate_log),
                         ("record", damage_record)):
        if only == [""] or name in only:
            one_case(h, name, damage)


ckpt_harness.main("damaged_undo", body)
