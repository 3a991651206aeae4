#!/usr/bin/python3
"""A corrupt newest image (one byte of page data flipped after a kill): the rerun warns about
that version by number, restores the previous one, and completes with the right output."""
import re

import ckpt_harness
from ckpt_harness import check


def body(h):
    argv = [h.program("counter"), "40", "100000"]
    reference, _ = h.reference(argv)
    out = h.make_output()
    first = h.run_and_kill_after_checkpoints("job", argv, out, min_versions=2)
    versions = h.versions(first.job_path)
    check(len(versions) >= 2, f"expected at least two versions, have {versions}")
    newest, previous = versions[-1], versions[-2]
    where = ckpt_harness.flip_page_data_byte(h.image_path(first.job_path, newest))
    ckpt_harness.log(f"flipped the byte at offset {where} of version {newest} (versions {versions})")
    second = h.start("job", argv, out)
    rc = second.wait()
    log = second.log_text()
    check(rc == 0, f"rerun exited with {rc}; log:\n{log}")
    warning = re.search(rf"warning: .*\bversion {newest}\b.*", log)
    check(warning is not None, f"no warning naming version {newest}; log:\n{log}")
    check(second.restored_version() == previous,
          f"restored version {second.restored_version()}, expected {previous}; log:\n{log}")
    check(not second.started_fresh(), f"started afresh instead of restoring; log:\n{log}")
    check(ckpt_harness.read_bytes(out) == reference,
          lambda: "output differs: " + ckpt_harness.describe_difference(reference, ckpt_harness.read_bytes(out)))
    ckpt_harness.log(f"warned {warning.group(0)!r}; restored version {previous}; output identical")


ckpt_harness.main("corrupt_newest", body)
