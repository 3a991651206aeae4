#!/usr/bin/python3
"""The program's executable changed after the checkpoint (first only its mtime, then its
size): the rerun exits 79 with a message naming the file, and keeps the images."""
import os
import shutil

import ckpt_harness
from ckpt_harness import check


def body(h):
    os.mkdir(h.path("bin"))
    exe = h.path("bin", "counter")
    shutil.copy2(h.program("counter"), exe)
    argv = [exe, "40", "100000"]
    out = h.make_output()
    first = h.run_and_kill_after_checkpoints("job", argv, out, min_versions=1)
    job = first.job_path
    images = h.images_snapshot(job)
    before_out = ckpt_harness.read_bytes(out)

    def rerun(change):
        launcher = h.start("job", argv, out)
        rc = launcher.wait()
        log = launcher.log_text()
        check(rc == ckpt_harness.EXIT_STALE_IMAGE, f"{change}: exit {rc}, expected 79; log:\n{log}")
        errors = [l for l in log.splitlines() if exe in l]
        check(errors, f"{change}: no message names {exe}; log:\n{log}")
        check(h.images_snapshot(job) == images, f"{change}: images were deleted or modified")
        check(not launcher.started_fresh() and ckpt_harness.read_bytes(out) == before_out,
              f"{change}: the program was started; log:\n{log}")
        ckpt_harness.log(f"{change}: exit 79, {errors[0]!r}")

    st = os.stat(exe)
    os.utime(exe, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    rerun("mtime changed")
    with open(exe, "ab") as f:
        f.write(b"\0")
    rerun("a byte appended")


ckpt_harness.main("changed_executable", body)
