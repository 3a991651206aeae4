#!/usr/bin/python3
"""A damaged image never costs a file rollback. A program checkpoints, then changes files (an
in-place overwrite and an atomic-save rename at every step) and is killed; then one byte of the
page data of every version is flipped. The rerun must exit 65 (every version unusable) with the
files exactly as the killed program left them and the job's undo data untouched: the restorer
checks the pages as it loads them, and ckpt-run rolls the files back only once it has
(launcher/restorer/files_handshake.h). Then the damage is mended (the byte flipped back) and
the rerun restores, rolls the files back and runs the program to its end."""
import os

import ckpt_harness
from ckpt_harness import check
import security_common
import undo_common


def body(h):
    work = undo_common.make_work(h, "work")
    first, version = undo_common.run_and_kill_with_changes(h, "job", work)
    job = first.job_path
    flipped = {v: ckpt_harness.flip_page_data_byte(h.image_path(job, v)) for v in h.versions(job)}
    ckpt_harness.log(f"flipped a page-data byte of versions {sorted(flipped)}")
    before = undo_common.snapshot(work)
    job_before = security_common.tree_snapshot(job)

    second = h.start("job", undo_common.argv_for(h, work), h.make_output("job.out2"), interval="1s")
    rc = second.wait()
    log = second.log_text()
    check(rc == ckpt_harness.EXIT_BAD_IMAGE, f"rerun exited with {rc}, expected 65; log:\n{log}")
    check("rolled back to" not in log, f"files were rolled back towards a damaged version; log:\n{log}")
    check(undo_common.snapshot(work) == before, f"the files changed, though no version could be restored; log:\n{log}")
    after = security_common.tree_snapshot(job)
    for rel, entry in job_before.items():
        if rel.startswith(("pct-", "undo-", "ckpt-")):
            check(after.get(rel) == entry, f"{rel} in the job directory was changed or removed; log:\n{log}")

    for v, where in flipped.items():
        ckpt_harness.flip_byte(h.image_path(job, v), where)
    third = h.start("job", undo_common.argv_for(h, work), h.make_output("job.out3"), interval="1s")
    rc = third.wait()
    log = third.log_text()
    check(rc == 0, f"after mending, the rerun exited with {rc}; log:\n{log}")
    check(third.restored_version() == version, f"restored {third.restored_version()}, expected {version}; log:\n{log}")
    check("rolled back to checkpoint version" in log, f"the files were not rolled back; log:\n{log}")
    ckpt_harness.log(f"damaged: exit 65, files and undo data untouched; mended: restored {version} and rolled back")


ckpt_harness.main("damaged_pages_files_kept", body)
