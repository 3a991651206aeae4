#!/usr/bin/python3
"""Restored with --lazy, lazy_probe meets memory the loader has not brought in yet: MADV_DONTNEED
on half a region gives zeros there (never the image's pages), an mremap'd region has its pages
where they went, write(2) straight from untouched memory (faults the kernel takes) writes the
right bytes, a forked child sees every word of a region its parent never touched, and every page
is right. Its output equals a run without ckpt, the launcher says the memory was loaded on
demand, and less than half of the memory was resident when the checks began (the restore did
not load it first)."""
import os

import ckpt_harness
import lazy_common
from ckpt_harness import check, log


def body(h):
    ref = lazy_common.reference(h)
    out = h.make_output("probe.out")
    job, versions = lazy_common.checkpoint_filled(h, out)
    open(h.path("go"), "w").close()
    # No checkpoint while the checks run: the first one after a restore waits for the loader,
    # and would hold the program until every page is in.
    again = h.start("probe", lazy_common.probe_argv(h), out, interval="1h", extra=["--no-incremental", "--lazy"])
    rc = again.wait(120)
    text = again.log_text()
    check(rc == 0, f"the lazily restored run exited with {rc}; log:\n{text[-3000:]}")
    m = ckpt_harness.RESTORED_RE.search(text)
    check(m and int(m.group(1)) == versions[-1], f"did not restore version {versions[-1]}; log:\n{text[-3000:]}")
    check("(memory loaded on demand)" in text, f"the launcher does not say the restore was lazy; log:\n{text[-3000:]}")
    actual = ckpt_harness.read_bytes(out)
    check(actual == ref, "output differs from a run without ckpt: " + ckpt_harness.describe_difference(ref, actual))
    resident, total = lazy_common.resident_at_checks(text)
    check(resident * 2 < total, f"{resident} of {total} KiB were resident when the checks began: not a lazy restore; log:\n{text[-3000:]}")
    check(not os.path.exists(job), f"job directory {job} left after exit 0")
    log(f"restored version {versions[-1]} lazily ({resident} of {total} KiB resident when the checks began); "
        "MADV_DONTNEED, mremap, write(2) and fork checks passed; output identical")


ckpt_harness.main("lazy_probe", body)
