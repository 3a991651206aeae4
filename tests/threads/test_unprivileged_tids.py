#!/usr/bin/python3
"""Issue 10, item A: threads restored by an unprivileged user (ckpttest: no
CAP_CHECKPOINT_RESTORE, so clone3 set_tid is refused and every thread comes back under a new
id), as docs/architecture.md ("Thread ids where set_tid is refused") says:
  * tid_locks free: a worker holding a normal mutex and waiting on a condition variable across
    the checkpoint; restored with new ids (the launcher warns so), gettid()/pthread_self()
    agree with the kernel and with before, the mutex and condition variable work;
  * tid_locks held: a worker holding a recursive and an error-checking mutex across the
    checkpoint; the restore is refused (exit 88) naming the mutex, the checkpoints kept; as
    root (old ids) the same program restores and its unlocks and relocks work;
  * CPython with four threading threads sharing a Lock: killed and restored unprivileged, the
    output identical to an uninterrupted run.
Skipped (77) without a second user."""
import os
import re
import subprocess

import ckpt_harness
import security_common
from ckpt_harness import check, log

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tid_locks.c")
NEW_IDS = "threads came back under new thread ids"

PYTHON = r"""
import hashlib, sys, threading
rounds, per = int(sys.argv[1]), int(sys.argv[2])
lock = threading.Lock()
shared = {"steps": 0, "xor": 0}
finals = {}
def work(k):
    h = ("thread-%d" % k).encode()
    for i in range(rounds):
        for _ in range(per):
            h = hashlib.sha256(h).digest()
        with lock:
            shared["steps"] += 1
            shared["xor"] ^= int.from_bytes(h[:8], "little")
    with lock:
        finals[k] = h.hex()
ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
for k in range(4): print(k, finals[k])
print("steps", shared["steps"], "xor %016x" % shared["xor"])
"""


class Job:
    """One job of `user` (None: root) with its own work directory and checkpoint root."""

    def __init__(self, h, name, user):
        self.h, self.name, self.user = h, name, user
        self.work = h.path(f"{name}.work")
        self.root = h.path(f"ckpt-{name}")
        os.makedirs(self.work)
        os.makedirs(self.root, mode=0o700)
        self.kw = {"root": self.root, "cwd": self.work}
        if user:
            for d in (self.work, self.root):
                os.chown(d, *user)
            self.kw["preexec_fn"] = security_common.as_user(*user)
        self.out = os.path.join(self.work, "out")
        self.runs = 0

    def start(self, argv, interval):
        self.runs += 1
        if self.runs == 1:
            open(self.out, "wb").close()
            if self.user:
                os.chown(self.out, *self.user)
        return self.h.start(self.name, argv, self.out, interval=interval, **self.kw)

    def checkpoint_and_kill(self, argv, ready=None):
        launcher = self.start(argv, "200ms")
        if ready:
            self.h.poll(lambda: launcher.poll() is not None or os.path.exists(ready), f"{self.name}: ready")
            check(launcher.poll() is None, f"{self.name}: ckpt-run exited with {launcher.rc}; log:\n{launcher.log_text()}")
        # A checkpoint of the state to keep (taken after `ready`: the versions before it are removed).
        first = self.h.versions(launcher.job_path)
        self.h.wait_for_version_above(launcher, first[-1] if first else 0, f"{self.name}: a checkpoint")
        rc = self.h.kill_program(launcher)
        check(rc == ckpt_harness.EXIT_KILLED, f"{self.name}: ckpt-run exited with {rc} after the kill")
        return self.h.versions(launcher.job_path)


def tid_locks_job(h, exe, mode, name, user):
    job = Job(h, name, user)
    ready, go = os.path.join(job.work, "ready"), os.path.join(job.work, "go")
    argv = [exe, mode, ready, go]
    versions = job.checkpoint_and_kill(argv, ready)
    launcher = job.start(argv, "1h")
    return job, launcher, versions, go


def body(h):
    user = security_common.other_user()
    os.chmod(h.tmp, 0o755)
    exe = h.path("tid_locks")
    r = subprocess.run(["cc", "-O1", "-g", "-Wall", "-pthread", "-o", exe, SOURCE], capture_output=True, text=True)
    check(r.returncode == 0, f"cannot compile tid_locks.c:\n{r.stderr}")
    os.chmod(exe, 0o755)

    # Nothing names an old id: restored under new ones, and everything works.
    job, launcher, _, go = tid_locks_job(h, exe, "free", "free", user)
    h.wait_for_log(launcher, ckpt_harness.RESTORED_RE.pattern, "free: the restore")
    open(go, "w").close()
    rc = launcher.wait(120)
    text, said = launcher.log_text(), ckpt_harness.read_bytes(job.out).decode(errors="replace")
    check(rc == 0 and "free: main: ids agree" in said, f"free: exit {rc}, it said {said!r}; log:\n{text}")
    check(NEW_IDS in text, f"free: no warning about new thread ids (did it restore unprivileged?); log:\n{text}")
    log("free: restored by ckpttest under new thread ids; ids, mutex and condition variable work")

    # A recursive and an error-checking mutex name the old id: refused, checkpoints kept.
    job, launcher, versions, go = tid_locks_job(h, exe, "held", "held", user)
    rc = launcher.wait(120)
    text = launcher.log_text()
    check(rc == 88,
          f"held: exit {rc}, expected 88 (refused); log:\n{text}")
    m = re.search(r"no CAP_CHECKPOINT_RESTORE: thread (\d+) holds an owner-checking mutex with its id", text)
    check(m, f"held: the refusal does not name the mutex; log:\n{text}")
    check(h.versions(launcher.job_path) == versions, f"held: checkpoints {h.versions(launcher.job_path)} after "
          f"the refusal, expected {versions}")
    log(f"held: restore by ckpttest refused: {m.group(0)}")

    # As root the ids are the old ones: the same program restores and its mutexes work.
    job, launcher, _, go = tid_locks_job(h, exe, "held", "held-root", None)
    h.wait_for_log(launcher, ckpt_harness.RESTORED_RE.pattern, "held as root: the restore")
    open(go, "w").close()
    rc = launcher.wait(120)
    text, said = launcher.log_text(), ckpt_harness.read_bytes(job.out).decode(errors="replace")
    check(rc == 0 and "held: main: ids agree" in said, f"held as root: exit {rc}, it said {said!r}; log:\n{text}")
    check(NEW_IDS not in text, f"held as root: restored under new thread ids; log:\n{text}")
    log("held as root: restored under the old ids; recursive and error-checking mutexes work")

    # CPython's threads, restored unprivileged.
    argv = ["/usr/bin/python3", "-I", "-c", PYTHON, "1500", "800"]
    reference, _ = h.reference(argv)
    job = Job(h, "python", user)
    job.checkpoint_and_kill(argv)
    launcher = job.start(argv, "1h")
    rc = launcher.wait(240)
    text = launcher.log_text()
    check(ckpt_harness.RESTORED_RE.search(text), f"python: not restored; log:\n{text}")
    check(rc == 0, f"python: exit {rc}; log:\n{text}")
    check(NEW_IDS in text, f"python: no warning about new thread ids; log:\n{text}")
    check(ckpt_harness.read_bytes(job.out) == reference, "python: output differs from the uninterrupted run")
    log("python: four threading threads restored by ckpttest under new ids, output identical")


ckpt_harness.main("unprivileged_tids", body)
