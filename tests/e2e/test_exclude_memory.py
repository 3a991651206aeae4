#!/usr/bin/python3
"""Memory exclusion (ckpt_exclude_memory / ckpt_include_memory) and freed pages: the program
tests/programs/exclude_memory.c runs twice under ckpt-run, once excluding nothing ("plain")
and once excluding buffers and freeing one with MADV_DONTNEED ("exclude"); each is killed
after a checkpoint that holds its final memory and restored. After the restore the excluded
pages are zero, partial pages at the ends of an excluded range and re-included pages are
intact, the freed buffer is zero, and the image of "exclude" is smaller by exactly the
excluded and the freed pages (the freed ones are not written)."""
import os

import ckpt_harness
from ckpt_harness import check, log

MIB = 1 << 20
PAGE = 4096
# What exclude_memory.c leaves out in "exclude" mode: A (16 MiB), C freed (8 MiB), the one
# whole page of X, D's first half (2 MiB).
LEFT_OUT = 16 * MIB + 8 * MIB + PAGE + 2 * MIB
EXPECTED = {
    "plain": "A intact\nB intact\nC intact\nX0 intact\nX1 intact\nX2 intact\nD0 intact\nD1 intact\n",
    "exclude": "A zero\nB intact\nC zero\nX0 intact\nX1 zero\nX2 intact\nD0 zero\nD1 intact\n",
}


def run(h, mode, extra, incremental=False):
    prog = h.program("exclude_memory")
    job = f"excl-{mode}-{'sync' if extra else 'fork'}{'-incr' if incremental else ''}"
    out = h.make_output(f"{job}.out")
    # Full images unless asked: the sizes body() compares are of whole images, not of increments.
    launcher = h.start(job, [prog, mode], out, interval="200ms",
                       extra=extra + ([] if incremental else ["--no-incremental"]))
    h.poll(lambda: ckpt_harness.read_bytes(out).startswith(b"ready\n") or launcher.poll() is not None,
           f"{job}: the program's ready line")
    check(launcher.poll() is None, f"{job}: ckpt-run exited with {launcher.rc}; log:\n{launcher.log_text()}")
    # A checkpoint requested after the ready line: the next but one (the next may be a forked
    # writer's snapshot of before it).
    seen = h.versions(launcher.job_path)
    newest = h.wait_for_version_above(launcher, (seen[-1] if seen else 0) + 1, f"{job}: a checkpoint after ready")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"{job}: ckpt-run exited with {rc}; log:\n{launcher.log_text()}")
    newest = h.versions(launcher.job_path)[-1]
    _, data_size = ckpt_harness.image_data_range(h.image_path(launcher.job_path, newest))
    again = h.start(job, [prog, mode], out, interval="1h", extra=extra)
    rc = again.wait(60)
    check(rc == 0, f"{job}: the restored run exited with {rc}; log:\n{again.log_text()}")
    check(again.restored_version() == newest, f"{job}: restored {again.restored_version()}, expected {newest}")
    text = ckpt_harness.read_bytes(out).decode(errors="replace")
    check(text == "ready\n" + EXPECTED[mode] + "done\n",
          f"{job}: after the restore the program found\n{text}expected\nready\n{EXPECTED[mode]}done")
    log(f"{job}: version {newest}, {data_size} bytes of page data; buffers as expected after the restore")
    return data_size


def body(h):
    # Restored from an increment (the newest version inherits from its parent): the excluded
    # and freed buffers are zero there too (an exclusion that miscounted inherited pages made
    # that version unrestorable).
    run(h, "exclude", [], incremental=True)
    for extra in ([], ["--no-fork"]):  # the forked writer and the synchronous one
        plain = run(h, "plain", extra)
        excl = run(h, "exclude", extra)
        saved = plain - excl
        log(f"{'sync' if extra else 'fork'}: the image of 'exclude' is {saved} bytes smaller, expected {LEFT_OUT} "
            f"(excluded and freed pages)")
        # The rest of the two processes' memory is the same up to a few pages (stdio, stacks).
        check(abs(saved - LEFT_OUT) <= 64 * PAGE,
              f"image of 'exclude' {excl} bytes, of 'plain' {plain}: {saved} smaller, expected {LEFT_OUT} "
              f"(the excluded 16 MiB + 1 page + 2 MiB and the 8 MiB freed with MADV_DONTNEED)")


ckpt_harness.main("exclude_memory", body)
