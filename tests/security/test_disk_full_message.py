#!/usr/bin/python3
"""Issue 8, defect 9: a checkpoint that fails on a full disk says where and how much: the
warning (and the status file's last_error) names the job directory, the space the image
needs and the space free. The checkpoints committed before stay as they were."""
import os
import re

import ckpt_harness
from ckpt_harness import check


def body(h):
    argv = [h.program("grower"), "40", "100000", "13", "8"]
    root = h.path("small")
    h.mount_tmpfs(root, "2m")
    out = h.make_output()
    launcher = h.start("job", argv, out, root=root, extra=["--keep"])
    job = launcher.job_path
    h.wait_for_version_above(launcher, 0)
    m = h.wait_for_log(launcher, r"warning: checkpoint failed.*", "a checkpoint failure warning")
    line = m.group(0)
    ckpt_harness.log(f"logged: {line!r}")
    check(job in line, f"the warning does not name the job directory {job}: {line!r}")
    need = re.search(r"needs ([\d.]+ MiB) \((\d+) bytes\)", line)
    free = re.search(r"([\d.]+) MiB free", line)
    check(need, f"the warning does not say how much space the image needs: {line!r}")
    check(free, f"the warning does not say how much space is free: {line!r}")
    # The image may fail beside the committed ones (1 MiB each here) before it outgrows the
    # whole 2 MiB file system: what must hold is that it needs more than was free.
    check(int(need.group(2)) > float(free.group(1)) * (1 << 20) - (1 << 20) // 20,
          f"the warning says the image needs less than is free: {line!r}")
    kept = h.images_snapshot(job)
    rc = launcher.wait()
    check(rc == 0, f"exit {rc}; log:\n{launcher.log_text()}")
    check(all(h.images_snapshot(job).get(v) == s for v, s in kept.items()), "committed checkpoints changed")
    check(not [n for n in os.listdir(job) if n.endswith(".tmp")], "temporary files left behind")


ckpt_harness.main("disk_full_message", body)
