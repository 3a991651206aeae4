#!/usr/bin/python3
"""SIGKILL the program while a forked writer is writing its checkpoint: ckpt-run waits for the
writer, which commits (or is discarded); the rerun restores the newest committed version and
the output is identical to an uninterrupted run."""
import ckpt_harness
from ckpt_harness import check, log
import fork_common


def body(h):
    argv = fork_common.heap_argv(h)
    reference, _ = h.reference(argv)
    out = h.make_output()
    launcher = h.start("job", argv, out, interval="1s")
    first = h.wait_for_version_above(launcher, 0, "the first checkpoint")
    version, writer = fork_common.wait_for_writing(h, launcher, first)
    # The writer names itself first thing, but the program announces it before that: its
    # name may still be the program's for a moment.
    h.poll(lambda: fork_common.comm(writer) in ("ckpt-writer", None), f"writer pid {writer} named ckpt-writer",
           timeout=5)
    before = h.versions(launcher.job_path)
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill; log:\n{launcher.log_text()}")
    fork_common.check_no_writer_left(launcher.pid)
    text = launcher.log_text()
    committed = f"checkpoint version {version} committed" in text
    log(f"program killed while version {version} was being written (writer {writer}); "
        f"{'committed' if committed else 'not committed'}; versions {h.versions(launcher.job_path)}")
    check(committed or f"writer of version {version} died" in text,
          f"ckpt-run said nothing about the writer of version {version}; log:\n{text}")
    check(fork_common.temp_images(launcher.job_path) == [],
          f"temporary images left: {fork_common.temp_images(launcher.job_path)}")
    newest = h.versions(launcher.job_path)[-1]
    expected = version if committed else before[-1]
    check(newest == expected, f"newest version {newest} after the kill, expected {expected} "
          f"(writing {version}, versions before {before})")
    fork_common.rerun_matches(h, argv, out, newest, reference)


ckpt_harness.main("fork_kill_program", body)
