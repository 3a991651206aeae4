#!/usr/bin/python3
"""A block of the newest image damaged on disk (one byte of its page data flipped), restored
with --lazy: the loader finds it when the block arrives, after the program ran again, tells the
launcher and kills the program, which never runs on with a wrong page; the launcher says so and
restores the previous version (lazily too), with the files rolled back to it: the output equals
a run without ckpt."""
import ckpt_harness
import lazy_common
from ckpt_harness import check, log


def body(h):
    ref = lazy_common.reference(h)
    out = h.make_output("probe.out")
    job, versions = lazy_common.checkpoint_filled(h, out, versions=2)
    check(len(versions) >= 2, f"two versions with the memory filled expected, got {versions}")
    newest = versions[-1]
    where = ckpt_harness.flip_page_data_byte(h.image_path(job, newest))
    log(f"flipped the byte at offset {where} of version {newest}")
    open(h.path("go"), "w").close()
    again = h.start("probe", lazy_common.probe_argv(h), out, interval="1h", extra=["--no-incremental", "--lazy"])
    rc = again.wait(120)
    text = again.log_text()
    check(rc == 0, f"the run exited with {rc}; log:\n{text[-3000:]}")
    check(f"lazy restore of checkpoint version {newest} failed after the program ran again" in text and
          "does not match its checksum" in text, f"the launcher does not report the damaged block; log:\n{text[-3000:]}")
    check(f"checkpoint version {newest} has damaged page data (found by the lazy restore); trying the previous one"
          in text, f"the launcher did not go on to the previous version; log:\n{text[-3000:]}")
    restored = [int(v) for v in ckpt_harness.RESTORED_RE.findall(text)]
    check(restored and restored[-1] < newest, f"restored versions {restored}: the last should be older than {newest}")
    actual = ckpt_harness.read_bytes(out)
    check(actual == ref, "output differs from a run without ckpt: " + ckpt_harness.describe_difference(ref, actual))
    log(f"damaged block of version {newest} found by the loader; restored version {restored[-1]}; output identical")


ckpt_harness.main("lazy_damaged_block", body)
