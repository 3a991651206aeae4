"""Helpers shared by the forked-checkpoint tests (tests/fork/): a python3 workload with a large
heap, so that a forked writer takes long enough to be caught writing, and the launcher's view
of a write in progress (the status file's writing_version / writer_pid)."""
import os

import ckpt_harness
from ckpt_harness import check, log

# A python3 hash chain over a populated 256 MiB heap, printing a line every 50000 steps
# (flushed: stdout is a regular file, undone by a recovery like any other).
HEAP_CODE = r"""
import sys
n, every = int(sys.argv[1]), int(sys.argv[2])
log = open(sys.argv[3], "a") if len(sys.argv) > 3 else None  # O_APPEND: a line not undone stays twice
heap = bytearray(b"\x5a") * (256 << 20)
h = 7
for i in range(1, n + 1):
    h = (h * 1000003 + i) & 0xffffffffffff
    if i % every == 0:
        heap[(i // every * 4096) % len(heap)] = h & 0xff
        print(i, h, heap[0], flush=True)
        if log:
            log.write(f"{i} {h}\n")
            log.flush()
print("final", h)
"""


def heap_argv(h, steps=12000000, every=50000, append_to=None):
    return [h.which("python3"), "-c", HEAP_CODE, str(steps), str(every)] + ([append_to] if append_to else [])


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def wait_for_writing(h, launcher, above):
    """Waits until the launcher reports a forked writer writing a version newer than `above`;
    returns (version, writer pid)."""
    def writing():
        if launcher.poll() is not None:
            raise ckpt_harness.TestFailure(f"ckpt-run exited with {launcher.rc} before a forked write of a version "
                                           f"above {above}; log:\n{launcher.log_text()}")
        st = h.read_status(launcher.job_path)
        v, pid = int(st.get("writing_version", "0")), int(st.get("writer_pid", "0"))
        return (v, pid) if v > above and pid > 0 else None
    return h.poll(writing, f"a forked writer of a version above {above}", interval=0.002)


def temp_images(job_path):
    try:
        return sorted(n for n in os.listdir(job_path) if n.endswith(".img.tmp"))
    except FileNotFoundError:
        return []


def check_no_writer_left(launcher_pid):
    """No ckpt-writer process is a child of the (exited) launcher."""
    left = [p for p in ckpt_harness.children_of(launcher_pid) if comm(p) == "ckpt-writer"]
    check(not left, f"writer processes {left} outlived ckpt-run {launcher_pid}")


def rerun_matches(h, argv, out, newest, reference):
    """Runs the job again: it must restore `newest` and finish with output equal to `reference`."""
    again = h.start("job", argv, out, interval="1s")
    m = h.wait_for_log(again, ckpt_harness.RESTORED_RE.pattern, "the restore log line")
    check(int(m.group(1)) == newest, f"restored version {m.group(1)}, newest committed is {newest}")
    rc = again.wait(180)
    check(rc == 0, f"the rerun exited with {rc}; log:\n{again.log_text()}")
    actual = ckpt_harness.read_bytes(out)
    check(actual == reference, "output differs: " + ckpt_harness.describe_difference(reference, actual))
    log(f"restored version {newest}; output identical ({len(actual)} bytes)")
