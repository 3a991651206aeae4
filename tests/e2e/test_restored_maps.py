#!/usr/bin/python3
"""A restored python3 has the same memory map as the one checkpointed: every region of
/proc/PID/smaps (range, permissions, offset, path, VmFlags) as it was, each one mapping (the
single-pass restore moves a whole staging mapping into place, never one mapping per block;
the stack stays growsdown, file-backed regions stay file-backed). ckpt's own mapping of the
persistent layer (in the job directory) is mapped anew at a restore and left out, and so are
the ac/nr VmFlags (MAP_NORESERVE is not in the image: such a mapping comes back accounted)
and uw (ckpt's own write tracker registers private anonymous memory; a restored process
is registered again at its next checkpoint)."""
import os
import signal

import ckpt_harness
from ckpt_harness import check

CODE = r"""
import time
d = {i: "value-%d" % i for i in range(300000)}
b = bytearray(48 << 20)
for i in range(0, len(b), 4096): b[i] = 1
open("ready", "w").close()
while True: time.sleep(0.02)
"""


def regions(pid, job_path):
    """[(range, perms, offset, path, vmflags)] from /proc/PID/smaps."""
    out, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                path = parts[5] if len(parts) > 5 else ""
                cur = [parts[0], parts[1], parts[2], path, ""]
                if not path.startswith(job_path):
                    out.append(cur)
            elif parts[0] == "VmFlags:" and cur is not None:
                # ac/nr (accounted, MAP_NORESERVE) are not recorded in the image: a NORESERVE
                # mapping (ckpt's own arenas among them) comes back accounted, as before.
                cur[4] = " ".join(sorted(f for f in parts[1:] if f not in ("ac", "nr", "uw")))
    return [tuple(r) for r in out]


def settled(h, pid, job_path):
    """The map once two readings 50 ms apart agree (a checkpoint's arena, a restore's
    leftover area are gone by then)."""
    state = {"last": None}

    def same():
        now = regions(pid, job_path)
        if now == state["last"]:
            return now
        state["last"] = now
        return None
    return h.poll(same, "a settled memory map", interval=0.05)


def body(h):
    argv = [h.which("python3"), "-c", CODE]
    ready = h.path("ready")
    first = h.start("job", argv, interval="1h", cwd=h.tmp)
    h.poll(lambda: os.path.exists(ready), "the program to fill its heap")
    pid = h.program_pid(first)
    os.kill(first.pid, signal.SIGUSR1)  # a checkpoint now, as ckptctl checkpoint asks for it
    h.wait_for_version_above(first, 0)
    before = settled(h, pid, first.job_path)
    rc = h.kill_program(first)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill; log:\n{first.log_text()}")
    second = h.start("job", argv, interval="1h", cwd=h.tmp)
    h.wait_for_log(second, ckpt_harness.RESTORED_RE.pattern, "the restore log line")
    pid2 = h.program_pid(second)
    after = settled(h, pid2, second.job_path)
    missing = [r for r in before if r not in after]
    extra = [r for r in after if r not in before]
    check(not missing and not extra,
          lambda: "the restored memory map differs:\n  only before: " + "\n    ".join(map(str, missing)) +
          "\n  only after: " + "\n    ".join(map(str, extra)))
    check(len(before) == len(after), f"{len(before)} regions before, {len(after)} after")
    ckpt_harness.log(f"{len(after)} regions, identical in range, permissions, offset, path and VmFlags")
    h.kill_program(second)


ckpt_harness.main("restored_maps", body)
