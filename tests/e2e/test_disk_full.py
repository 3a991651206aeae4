#!/usr/bin/python3
"""The checkpoint file system fills up: a 2 MiB tmpfs holds the job directory, and the program
grows to 8 MiB after a few checkpoints. Each failed checkpoint is a warning, the program keeps
running and completes with exit 0 and the right output, the earlier checkpoints stay as they
were, no temporary file is left behind; and those earlier checkpoints still restore."""
import os
import subprocess

import ckpt_harness
from ckpt_harness import check


UNDO_FAILED = 83


def body(h):
    argv = [h.program("grower"), "40", "100000", "13", "8"]
    reference, _ = h.reference(argv)
    root = h.path("small")
    h.mount_tmpfs(root, "2m")
    out = h.make_output()
    launcher = h.start("job", argv, out, root=root, extra=["--keep"])
    job = launcher.job_path
    h.wait_for_version_above(launcher, 0)
    warning = h.wait_for_log(launcher, r"warning: checkpoint failed.*", "a checkpoint failure warning")
    ckpt_harness.log(f"logged: {warning.group(0)!r}")
    failed_at = h.images_snapshot(job)
    check(failed_at, "no committed checkpoint left after the failure")
    # The program keeps running: another checkpoint attempt fails while it goes on.
    h.poll(lambda: launcher.log_text().count("warning: checkpoint failed") >= 2 or launcher.poll() is not None,
           "a second checkpoint attempt")
    st = h.read_status(job)
    check(int(st.get("failures", "0")) >= 1 and st.get("last_error"),
          f"the status file does not record the failure: {st}")
    rc = launcher.wait()
    log = launcher.log_text()
    check(rc == 0, f"exit {rc}, expected 0; log:\n{log}")
    check(ckpt_harness.read_bytes(out) == reference,
          lambda: "output differs: " + ckpt_harness.describe_difference(reference, ckpt_harness.read_bytes(out)))
    check(h.images_snapshot(job) == failed_at,
          f"the checkpoints committed before the failure changed: {sorted(failed_at)} -> {h.versions(job)}")
    leftovers = [n for n in os.listdir(job) if n.endswith(".tmp")]
    check(not leftovers, f"failed checkpoints left temporary files behind: {leftovers}")
    newest = max(failed_at)
    ckpt_harness.log(f"exit 0 after {log.count('warning: checkpoint failed')} failed checkpoints; "
                     f"versions {sorted(failed_at)} intact")
    # Those checkpoints are usable: the same command resumes from the newest and completes.
    # The file system is still full: the recovery may find no room for its progress file (how
    # full depends on where the failures fell). Then it must refuse with exit 83, say so and
    # change nothing; once there is room (the tmpfs grown, as a user would free space), it goes.
    again = h.start("job", argv, out, root=root)
    rc = again.wait()
    log = again.log_text()
    if rc == UNDO_FAILED and "No space left on device" in log:
        check(h.images_snapshot(job) == failed_at and again.restored_version() is None,
              f"a recovery refused for want of space changed the checkpoints or ran the program; log:\n{log}")
        ckpt_harness.log("the rerun found no room for its progress file: refused with exit 83, nothing changed; "
                         "growing the tmpfs to 16m")
        r = subprocess.run(["mount", "-o", "remount,size=16m", root], capture_output=True, text=True)
        check(r.returncode == 0, f"cannot grow the tmpfs: {r.stderr.strip()}")
        again = h.start("job", argv, out, root=root)
        rc = again.wait()
        log = again.log_text()
    check(rc == 0, f"rerun: exit {rc}; log:\n{log}")
    check(again.restored_version() == newest, f"rerun restored {again.restored_version()}, expected {newest}; log:\n{log}")
    check(ckpt_harness.read_bytes(out) == reference, "output differs after the rerun")
    check(not os.path.exists(job), "job directory left after exit 0")


ckpt_harness.main("disk_full", body)
