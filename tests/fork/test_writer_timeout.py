#!/usr/bin/python3
"""A forked writer that hangs (CKPT_TEST_WRITER_STALL: the writer of version 2 stops before it
writes, as on a hung disk) is killed by ckpt-run after --writer-timeout: one log line, no
temporary image, version 2 never committed, the writer process gone; the next checkpoint is
committed, and a kill and rerun restore the newest good version with identical output."""
import re

import ckpt_harness
from ckpt_harness import check, log
import fork_common

STALLED = 2


def body(h):
    argv = fork_common.heap_argv(h, steps=20000000)
    reference, _ = h.reference(argv)
    out = h.make_output()
    h.env["CKPT_TEST_WRITER_STALL"] = str(STALLED)
    launcher = h.start("job", argv, out, interval="200ms", extra=["--writer-timeout=1s"])
    del h.env["CKPT_TEST_WRITER_STALL"]
    h.wait_for_version_above(launcher, 0, "the first checkpoint")
    _, writer = fork_common.wait_for_writing(h, launcher, STALLED - 1)
    m = h.wait_for_log(launcher, rf"checkpoint failed: the checkpoint writer of version {STALLED} \(pid (\d+)\) did "
                       r"not commit within 1s \(--writer-timeout\); killed it", "the writer timeout's log line", timeout=30)
    check(int(m.group(1)) == writer, f"the log names writer pid {m.group(1)}, the status file said {writer}")
    h.poll(lambda: not ckpt_harness.is_alive(writer), f"the hung writer {writer} to be gone", timeout=10)
    nxt = h.wait_for_version_above(launcher, STALLED, "a checkpoint after the hung writer")
    vs = h.versions(launcher.job_path)
    check(STALLED not in vs, f"version {STALLED} exists though its writer hung and was killed: versions {vs}")
    check(fork_common.temp_images(launcher.job_path) == [],
          f"temporary images left: {fork_common.temp_images(launcher.job_path)}")
    lines = re.findall(r"did not commit within .*; killed it", launcher.log_text())
    check(len(lines) == 1, f"{len(lines)} timeout lines, expected 1; log:\n{launcher.log_text()}")
    log(f"writer {writer} of version {STALLED} killed after the timeout; next committed version {nxt}, versions {vs}")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc}; log:\n{launcher.log_text()}")
    fork_common.check_no_writer_left(launcher.pid)
    newest = h.versions(launcher.job_path)[-1]
    check(newest > STALLED, f"newest version {newest}")
    fork_common.rerun_matches(h, argv, out, newest, reference)


ckpt_harness.main("fork_writer_timeout", body)
