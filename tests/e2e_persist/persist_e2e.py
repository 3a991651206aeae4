"""Helpers for the persistent-state end-to-end tests (run with /usr/bin/python3 by ctest).

Every test process makes itself a child subreaper (PID 1 here does not reap orphans), starts
ckpt-run with its output on pipes drained by threads, waits by polling, and on the way out kills
by pid whatever it started and removes its files."""
import ctypes
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BUILD = os.environ.get("CKPT_BUILD_DIR") or os.path.join(os.path.dirname(__file__), "../../build")
BUILD = os.path.abspath(BUILD)
CKPT_RUN = os.path.join(BUILD, "bin", "ckpt-run")
PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def poll(cond, timeout=20.0, interval=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def reap_all():
    """Kills every process this test still has below it and reaps them."""
    me = os.getpid()
    for _ in range(50):
        kids = children_of(me)
        if not kids:
            break
        for k in kids:
            for g in children_of(k):
                try:
                    os.kill(g, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


def read_words(path):
    try:
        with open(path) as f:
            return f.read().split()
    except OSError:
        return []


def fnv(path):
    h = 1469598103934665603
    with open(path, "rb") as f:
        data = f.read()
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h, len(data)


def manifest(d):
    """Same format as headline.c's snapshots: name type mode size fnv, sorted by name."""
    lines = []
    for name in sorted(os.listdir(d), key=lambda s: s.encode()):
        p = os.path.join(d, name)
        st = os.lstat(p)
        import stat as S
        if S.S_ISREG(st.st_mode):
            h, size = fnv(p)
            t = "f"
        else:
            h, size, t = 0, 0, "d" if S.S_ISDIR(st.st_mode) else "o"
        lines.append(f"{name} {t} {st.st_mode & 0o7777:o} {size} {h:016x}")
    return "\n".join(lines) + "\n"


class Launcher:
    """One ckpt-run, its output collected from pipes."""

    def __init__(self, args, env=None, cwd=None):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("CKPT_") and k != "CKPT_BUILD_DIR":
                del e[k]
        if env:
            e.update(env)
        self.proc = subprocess.Popen([CKPT_RUN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=e, cwd=cwd, stdin=subprocess.DEVNULL)
        self.out, self.err = [], []
        self._threads = [threading.Thread(target=self._drain, args=(self.proc.stdout, self.out), daemon=True),
                         threading.Thread(target=self._drain, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self._threads:
            t.start()

    @staticmethod
    def _drain(stream, sink):
        for line in iter(stream.readline, b""):
            sink.append(line.decode(errors="replace"))
        stream.close()

    def program_pid(self):
        kids = children_of(self.proc.pid)
        return kids[0] if kids else None

    def kill_program(self):
        """SIGKILLs the program and returns ckpt-run's exit status; None if the program ended
        by itself first (ckpt-run exited before a pid could be found)."""
        pid = poll(lambda: self.program_pid() or (self.proc.poll() is not None and -1),
                   what="the program's pid")
        if pid == -1:
            return None
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended at this very moment; ckpt-run's status says how
        return self.wait()

    def wait(self, timeout=120):
        rc = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=5)
        return rc

    def stderr(self):
        return "".join(self.err)

    def stdout(self):
        return "".join(self.out)


class PersistTest(unittest.TestCase):
    """Base: a private temporary directory and clean-up of processes and files."""

    @classmethod
    def setUpClass(cls):
        set_subreaper()
        if not os.access(CKPT_RUN, os.X_OK):
            raise unittest.SkipTest(f"{CKPT_RUN} not built")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ckpt-persist-")
        self.jobs = os.path.join(self.tmp, "jobs")
        self.rng = random.Random(int(os.environ.get("CKPT_TEST_SEED", "0")) or None)
        self.mounts = []

    def tearDown(self):
        reap_all()
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def job_dir(self, name):
        return os.path.join(self.jobs, name)

    def images(self, name):
        d = self.job_dir(name)
        try:
            return sorted(f for f in os.listdir(d) if f.startswith("ckpt-") and f.endswith(".img"))
        except OSError:
            return []

    def wait_image(self, name, count=1, timeout=30):
        return poll(lambda: len(self.images(name)) >= count, timeout=timeout, what="a checkpoint image")

    def latest(self, name):
        imgs = self.images(name)
        return int(imgs[-1][5:-4]) if imgs else 0

    def wait_newer(self, name, than, timeout=60):
        """Waits for a checkpoint newer than version `than` (versions are pruned, so not a count)."""
        return poll(lambda: self.latest(name) > than and self.latest(name), timeout=timeout,
                    what=f"a checkpoint newer than version {than}")

    def run_to_end(self, args, env=None, timeout=300):
        l = Launcher(args, env)
        rc = l.wait(timeout)
        return rc, l


def main():
    unittest.main(verbosity=2)
