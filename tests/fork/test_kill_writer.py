#!/usr/bin/python3
"""SIGKILL the forked writer while it writes: ckpt-run warns, removes its temporary image, keeps
the previous versions; the next checkpoint works, and a kill and rerun resume correctly."""
import os
import signal

import ckpt_harness
from ckpt_harness import check, log
import fork_common


def body(h):
    argv = fork_common.heap_argv(h, steps=40000000)  # about 10 s: the kill of the program comes after three checkpoints
    reference, _ = h.reference(argv)
    out = h.make_output()
    launcher = h.start("job", argv, out, interval="1s")
    first = h.wait_for_version_above(launcher, 0, "the first checkpoint")
    above = first
    for attempt in range(5):
        version, writer = fork_common.wait_for_writing(h, launcher, above)
        before = h.versions(launcher.job_path)  # names only: hashing them takes longer than a write
        try:
            # A pidfd: the number cannot be reused between the check and the kill.
            fd = os.pidfd_open(writer)
        except ProcessLookupError:
            log(f"the writer {writer} of version {version} was done before it could be killed; next one")
            above = version
            continue
        try:
            check(ckpt_harness.parent_pid(writer) in (launcher.pid, None),
                  f"writer {writer}'s parent is {ckpt_harness.parent_pid(writer)}, not ckpt-run {launcher.pid}")
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            above = version
            continue
        finally:
            os.close(fd)
        break
    else:
        raise ckpt_harness.TestFailure("every writer was done before it could be killed (5 tries)")
    log(f"SIGKILL sent to the writer {writer} of version {version}")
    m = h.wait_for_log(launcher, rf"(checkpoint version {version} committed)|(writer of version {version} died)",
                       "the launcher's word on the killed writer")
    if m.group(1):
        log(f"the writer had committed version {version} before the kill reached it; nothing to check there")
    else:
        check("killed by SIGKILL" in launcher.log_text(), f"the warning does not say how the writer died; "
              f"log:\n{launcher.log_text()}")
        check(fork_common.temp_images(launcher.job_path) == [],
              f"temporary images left: {fork_common.temp_images(launcher.job_path)}")
        after = h.versions(launcher.job_path)
        check(version not in after, f"version {version} exists though its writer was killed")
        log(f"the writer died before committing version {version}: warned, no temporary image, "
            f"versions {after} (before: {before})")
        check(before[-1] in after, f"the newest version before the kill, {before[-1]}, is gone: versions {after}")
    nxt = h.wait_for_version_above(launcher, version, "a checkpoint after the killed writer")
    log(f"next checkpoint: version {nxt}")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc}; log:\n{launcher.log_text()}")
    newest = h.versions(launcher.job_path)[-1]
    fork_common.rerun_matches(h, argv, out, newest, reference)


ckpt_harness.main("fork_kill_writer", body)
