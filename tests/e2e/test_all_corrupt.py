#!/usr/bin/python3
"""Every image corrupt: exit 65 with a message saying so, nothing deleted or started."""
import os

import ckpt_harness
from ckpt_harness import check


def body(h):
    argv = [h.program("counter"), "40", "100000"]
    out = h.make_output()
    first = h.run_and_kill_after_checkpoints("job", argv, out, min_versions=2)
    job = first.job_path
    for v in h.versions(job):
        ckpt_harness.flip_page_data_byte(h.image_path(job, v))
    before_files = sorted(os.listdir(job))
    before_images = h.images_snapshot(job)
    before_out = ckpt_harness.read_bytes(out)
    ckpt_harness.log(f"corrupted versions {sorted(before_images)}")
    second = h.start("job", argv, out)
    rc = second.wait()
    log = second.log_text()
    check(rc == ckpt_harness.EXIT_BAD_IMAGE, f"exit {rc}, expected 65; log:\n{log}")
    errors = [l for l in log.splitlines() if ": error: " in l]
    check(len(errors) == 1 and "unusable" in errors[0] and "nothing was deleted" in errors[0],
          f"expected one error saying all versions are unusable and nothing was deleted; log:\n{log}")
    check(sorted(os.listdir(job)) == before_files,
          f"job directory changed: {before_files} -> {sorted(os.listdir(job))}")
    check(h.images_snapshot(job) == before_images, "an image was modified")
    check(not second.started_fresh() and ckpt_harness.read_bytes(out) == before_out,
          f"the program was started although no checkpoint was usable; log:\n{log}")
    ckpt_harness.log(f"exit 65, {errors[0]!r}")


ckpt_harness.main("all_corrupt", body)
