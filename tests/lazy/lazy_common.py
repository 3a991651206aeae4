"""Shared by the lazy-restore tests: lazy_probe (lazy_probe.c) checkpointed with its memory
filled and waiting for its go file, then killed, to be restored with --lazy."""
import os
import re

import ckpt_harness
from ckpt_harness import check, log

MIB = 96  # five regions of this many MiB: the loader needs a while for them


def probe_argv(h):
    return [h.program("lazy_probe"), h.path("go"), str(MIB)]


def reference(h):
    """The output of a run without ckpt (its go file there from the start)."""
    go = h.path("go")
    open(go, "w").close()
    ref, _ = h.reference(probe_argv(h))
    os.unlink(go)
    check(ref.endswith(b"ok\n"), f"lazy_probe fails without ckpt:\n{ref.decode(errors='replace')}")
    return ref


def checkpoint_filled(h, out, versions=1):
    """Runs lazy_probe under ckpt-run (full images) until `versions` checkpoints were committed
    after it filled its memory, then SIGKILLs it; returns the job path and those versions."""
    launcher = h.start("probe", probe_argv(h), out, interval="300ms", extra=["--no-incremental", "--keep"])
    h.poll(lambda: b"ready" in ckpt_harness.read_bytes(out), "lazy_probe to fill its memory")
    # A version committed after "ready" may have been snapshotted before it (a forked writer
    # was still writing it): only the ones after that are of the filled memory.
    first = max(h.versions(launcher.job_path) or [0]) + 1
    last = first
    for _ in range(versions):
        last = h.wait_for_version_above(launcher, last)
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill")
    taken = [v for v in h.versions(launcher.job_path) if v > first]
    log(f"versions {taken} committed with the memory filled, then SIGKILL")
    return launcher.job_path, taken


def resident_at_checks(text):
    """(resident KiB, total KiB) that lazy_probe saw when its checks began (its stderr line)."""
    m = re.search(r"lazy_probe: resident when the checks began: (\d+) of (\d+) KiB", text)
    check(m, "lazy_probe did not say how much of its memory was resident")
    return int(m.group(1)), int(m.group(2))
