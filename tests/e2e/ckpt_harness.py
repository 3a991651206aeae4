"""Shared helpers of the end-to-end tests: run programs under ckpt-run, kill them, rerun them.

Every test script does:

    with Harness("name") as h:
        ...

The harness
  * makes the test process a child subreaper, so that whatever a killed launcher leaves
    behind is reparented to it and reaped;
  * gives the test its own temporary directory (mkdtemp), removed at the end;
  * remembers every process it started and every program pid it read from a status file,
    and kills (by pid, through a pidfd) whatever is still alive at the end;
  * unmounts whatever it mounted;
  * synchronises by polling the job directory, the status file and the logs, never by
    sleeping for a fixed time.

Test scripts are run by ctest as `/usr/bin/python3 test_X.py --ckpt-run PATH --programs DIR`.
A failed check raises TestFailure; the script then prints what it knows (logs, status) and
exits 1.
"""

import argparse
import ctypes
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36

# Exit codes of ckpt-run (launcher/exit_codes.h).
EXIT_BAD_IMAGE = 65
EXIT_CANT_CREATE = 73
EXIT_TEMPFAIL = 75
EXIT_STALE_IMAGE = 79
EXIT_NOT_FOUND = 127
EXIT_KILLED = 128 + signal.SIGKILL

IMAGE_RE = re.compile(r"^ckpt-(\d+)\.img$")
RESTORED_RE = re.compile(r"restored from checkpoint version (\d+)")

DEFAULT_TIMEOUT = 60.0

# The modes of the test matrix: the kill-and-resume tests are registered once per mode
# (e2e.NAME.MODE, tests/e2e/register_modes.cmake), with CKPT_E2E_MODE=MODE in their environment;
# every ckpt-run they start gets the mode's options. One line a mode: its ckpt-run options, and
# what the launcher's -v log must show at least once in a kill-and-resume test (the mode took
# effect), or None. A mode is registered only if `ckpt-run --help` lists every option it adds
# (available_modes): a mode whose option is not built yet has no tests at all, rather than
# tests that skip and count as passed.
MODES = {
    # the synchronous writer: the program waits for the write (no "written in ... by a forked writer")
    "sync": (["--no-fork"], r"checkpoint version \d+ committed: [\d.]+ MiB, program paused [\d.]+ ms\n"),
    # the default: a forked copy-on-write writer
    "fork": ([], r"checkpoint version \d+ committed: .* by a forked writer"),
    "incremental": (["--incremental"], None),
    "compressed": (["--compress"], None),
    # memory served on demand by the loader while the program runs (launcher/restorer/lazy_loader.h)
    "lazy": (["--lazy"], r"restored from checkpoint version \d+ in [\d.]+ ms \(memory loaded on demand\)"),
}


def mode_options(mode):
    """The ckpt-run options of a mode of MODES ('' or None: none)."""
    if not mode:
        return []
    if mode not in MODES:
        raise TestFailure(f"CKPT_E2E_MODE={mode}: not a mode of ckpt_harness.MODES ({', '.join(MODES)})")
    return list(MODES[mode][0])


def available_modes(ckpt_run):
    """The modes whose every option `ckpt_run --help` lists, in table order."""
    text = subprocess.run([ckpt_run, "--help"], capture_output=True, text=True, check=True).stdout

    def listed(option):
        name = option.split("=", 1)[0]
        return re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text) is not None
    return [m for m, (opts, _) in MODES.items() if all(listed(o) for o in opts)]


class TestFailure(Exception):
    pass


def check(cond, message):
    """Raises TestFailure(message) unless cond; message may be a callable (built only then)."""
    if not cond:
        raise TestFailure(message() if callable(message) else message)


def log(message):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {message}", flush=True)


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "prctl(PR_SET_CHILD_SUBREAPER): " + os.strerror(err))


def parent_pid(pid):
    """PPid of pid from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def is_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def children_of(ppid):
    """Pids whose parent is ppid."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and parent_pid(int(entry)) == ppid:
            pids.append(int(entry))
    return pids


def make_text_input(path, size, seed, n_words=20, words_per_line=10, word_bits=24):
    """Pseudo-random text from a small vocabulary (compressible, slow for a strong compressor),
    written to path; returns the bytes."""
    r = random.Random(seed)
    words = ["%x" % r.getrandbits(word_bits) for _ in range(n_words)]
    parts, n = [], 0
    while n < size:
        line = " ".join(r.choice(words) for _ in range(words_per_line)) + "\n"
        parts.append(line)
        n += len(line)
    data = "".join(parts).encode()
    with open(path, "wb") as f:
        f.write(data)
    return data


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def describe_difference(expected, actual):
    if expected == actual:
        return "identical"
    n = min(len(expected), len(actual))
    i = next((k for k in range(n) if expected[k] != actual[k]), n)
    return (f"expected {len(expected)} bytes, got {len(actual)}; first difference at byte {i}: "
            f"expected {expected[max(0, i - 40):i + 40]!r}, got {actual[max(0, i - 40):i + 40]!r}")


def image_data_range(path):
    """(data_offset, data_size) from an image header (runtime/image_format.h, ImageHeader)."""
    with open(path, "rb") as f:
        header = f.read(64)
    check(header[:8] == b"CKPTIMG\0", f"{path}: not a ckpt image")
    data_offset = int.from_bytes(header[48:56], "little")
    data_size = int.from_bytes(header[56:64], "little")
    return data_offset, data_size


def flip_byte(path, where, mask=0xFF):
    """XORs the byte at offset `where` of `path` with `mask` (twice: as it was)."""
    with open(path, "r+b") as f:
        f.seek(where)
        b = f.read(1)
        f.seek(where)
        f.write(bytes([b[0] ^ mask]))
        f.flush()
        os.fsync(f.fileno())


def flip_page_data_byte(path):
    """Flips one byte in the middle of an image's page data; returns its offset."""
    data_offset, data_size = image_data_range(path)
    check(data_size > 0, f"{path}: image has no page data to corrupt")
    where = data_offset + data_size // 2
    flip_byte(path, where)
    return where


class Launcher:
    """One ckpt-run process; its stderr (the -v log) goes to a file."""

    def __init__(self, harness, popen, log_path, job_path, argv):
        self.h = harness
        self.popen = popen
        self.pid = popen.pid
        self.log_path = log_path
        self.job_path = job_path
        self.argv = argv
        self.rc = None

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def poll(self):
        if self.rc is None:
            self.rc = self.popen.poll()
        return self.rc

    def wait(self, timeout=DEFAULT_TIMEOUT):
        if self.rc is None:
            try:
                self.rc = self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                raise TestFailure(f"ckpt-run (pid {self.pid}) did not exit within {timeout:.0f} s; "
                                  f"log so far:\n{self.log_text()}")
        return self.rc

    def restored_version(self):
        m = RESTORED_RE.search(self.log_text())
        return int(m.group(1)) if m else None

    def started_fresh(self):
        return re.search(r"info: started .* as pid \d+", self.log_text()) is not None


class Harness:
    def __init__(self, name):
        parser = argparse.ArgumentParser()
        parser.add_argument("--ckpt-run", required=True)
        parser.add_argument("--programs", required=True, help="directory of the built test programs")
        self.args = parser.parse_args()
        self.name = name
        self.ckpt_run = os.path.abspath(self.args.ckpt_run)
        self.programs = os.path.abspath(self.args.programs)
        self.processes = []      # subprocess.Popen objects we started
        self.program_pids = set()  # pids read from status files (children of our launchers)
        self.mounts = []
        self.seq = 0
        self.rng = random.Random()
        seed = os.environ.get("CKPT_E2E_SEED")
        self.seed = int(seed) if seed else random.SystemRandom().randrange(1 << 32)
        self.rng.seed(self.seed)
        self.tmp = None
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("CKPT_") and k != "LD_PRELOAD"}
        self.env["LC_ALL"] = "C"
        self.mode = os.environ.get("CKPT_E2E_MODE", "")
        self.mode_options = mode_options(self.mode)

    # -- lifetime --------------------------------------------------------------------------
    def __enter__(self):
        become_subreaper()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self.tmp = tempfile.mkdtemp(prefix=f"ckpt-e2e-{self.name}-")
        log(f"test {self.name}: temp dir {self.tmp}, random seed {self.seed} (set CKPT_E2E_SEED to repeat)")
        if self.mode:
            log(f"mode {self.mode}: every ckpt-run gets {' '.join(self.mode_options) or 'no extra options'}")
        return self

    def _on_signal(self, signo, frame):
        raise TestFailure(f"test interrupted by signal {signal.Signals(signo).name}")

    def __exit__(self, exc_type, exc, tb):
        try:
            self.cleanup()
        except Exception as e:  # cleanup problems are reported but do not hide the result
            log(f"cleanup problem: {e!r}")
            if exc is None:
                print(f"FAIL {self.name}: cleanup failed: {e!r}", flush=True)
                sys.exit(1)
        if exc is None:
            print(f"PASS {self.name}", flush=True)
            sys.exit(0)
        if isinstance(exc, TestFailure):
            print(f"FAIL {self.name}: {exc}", flush=True)
        else:
            import traceback
            traceback.print_exception(exc_type, exc, tb)
            print(f"FAIL {self.name}: {exc_type.__name__}: {exc}", flush=True)
        sys.exit(1)

    def _kill_pid(self, pid):
        if not is_alive(pid):
            return
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return
        try:
            # Only processes that are ours: our children, or reparented to us.
            ppid = parent_pid(pid)
            mine = ppid == os.getpid() or any(p.pid == ppid for p in self.processes)
            if mine:
                log(f"cleanup: killing leftover pid {pid}")
                signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        finally:
            os.close(fd)

    def cleanup(self):
        # Programs first (so that their launchers exit), then launchers and other children.
        for pid in sorted(self.program_pids):
            self._kill_pid(pid)
        for p in self.processes:
            if p.poll() is None:
                log(f"cleanup: killing leftover pid {p.pid} ({os.path.basename(str(p.args[0]))})")
                p.kill()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                log(f"cleanup: pid {p.pid} did not die")
        for pid in sorted(self.program_pids):
            self._kill_pid(pid)
        # Whatever was reparented to us (we are a subreaper): kill it by pid, then reap it.
        for pid in children_of(os.getpid()):
            self._kill_pid(pid)
        deadline = time.monotonic() + 10
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                if time.monotonic() > deadline:
                    log("cleanup: children left that do not exit")
                    break
                time.sleep(0.02)
        for m in reversed(self.mounts):
            r = subprocess.run(["umount", m], capture_output=True, text=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", m], capture_output=True, text=True)
                log(f"cleanup: umount {m} failed ({r.stderr.strip()}), detached lazily")
        if self.tmp and os.path.exists(self.tmp):
            shutil.rmtree(self.tmp)
            log(f"cleanup: removed {self.tmp}")

    # -- helpers -----------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def program(self, name):
        p = os.path.join(self.programs, name)
        check(os.access(p, os.X_OK), f"test program {p} is missing (build it first)")
        return p

    def which(self, name):
        p = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
        check(p is not None, f"{name} is not installed (scripts/setup.sh installs it)")
        return p

    def poll(self, condition, what, timeout=DEFAULT_TIMEOUT, interval=0.01):
        """Calls condition() until it returns something true; returns that."""
        deadline = time.monotonic() + timeout
        while True:
            v = condition()
            if v:
                return v
            if time.monotonic() > deadline:
                raise TestFailure(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    @staticmethod
    def versions(job_path):
        try:
            names = os.listdir(job_path)
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for m in map(IMAGE_RE.match, names) if m)

    @staticmethod
    def image_path(job_path, version):
        return os.path.join(job_path, f"ckpt-{version:06d}.img")

    @staticmethod
    def read_status(job_path):
        try:
            with open(os.path.join(job_path, "status")) as f:
                text = f.read()
        except FileNotFoundError:
            return {}
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def make_output(self, name="out"):
        """An empty output file, to be opened like `1<>file` (no truncation, no O_APPEND)."""
        p = self.path(name)
        open(p, "wb").close()
        return p

    def run_plain(self, argv, stdout_path, timeout=120, cwd=None):
        """Runs argv without ckpt-run, stdout into stdout_path (1<> style); returns (rc, secs)."""
        self.seq += 1
        err_path = self.path(f"plain-{self.seq}.err")
        fd = os.open(stdout_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            with open(err_path, "wb") as err:
                t0 = time.monotonic()
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fd, stderr=err,
                                     env=self.env, cwd=cwd or self.tmp)
        finally:
            os.close(fd)
        self.processes.append(p)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"{argv[0]} did not finish within {timeout} s")
        secs = time.monotonic() - t0
        check(rc == 0, f"reference run of {argv} exited with {rc}: {read_bytes(err_path)[-2000:]!r}")
        return rc, secs

    def reference(self, argv, name="reference.out", cwd=None):
        out = self.make_output(name)
        _, secs = self.run_plain(argv, out, cwd=cwd)
        data = read_bytes(out)
        check(len(data) > 0, f"reference run of {argv[0]} printed nothing")
        log(f"reference run (plain, without ckpt-run): {secs:.2f} s, {len(data)} bytes, "
            f"sha256 {hashlib.sha256(data).hexdigest()[:16]}")
        return data, secs

    def start(self, job, argv, stdout_path=None, interval="200ms", root=None, extra=(), cwd=None,
              verbose=True, preexec_fn=None):
        """Starts `ckpt-run --dir ROOT --name JOB --interval I -v EXTRA -- ARGV 1<>stdout_path`
        (without -v if not verbose; preexec_fn: e.g. to run it as another user)."""
        root = root or self.path("ckpt")
        self.seq += 1
        log_path = self.path(f"run-{self.seq}-{job}.log")
        cmd = [self.ckpt_run, "--dir", root, "--name", job, "--interval", interval,
               *(["-v"] if verbose else []), *self.mode_options, *extra, "--", *argv]
        if stdout_path is None:
            fd = os.open(os.devnull, os.O_WRONLY)
        else:
            fd = os.open(stdout_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            with open(log_path, "wb") as err:
                p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fd, stderr=err,
                                     env=self.env, cwd=cwd or self.tmp, preexec_fn=preexec_fn)
        finally:
            os.close(fd)
        self.processes.append(p)
        return Launcher(self, p, log_path, os.path.join(root, job), cmd)

    def run_to_exit(self, job, argv, stdout_path=None, timeout=DEFAULT_TIMEOUT, **kw):
        """start() and wait; returns (exit status, stderr text)."""
        launcher = self.start(job, argv, stdout_path, **kw)
        rc = launcher.wait(timeout)
        return rc, launcher.log_text()

    def images_snapshot(self, job_path):
        """{version: sha256} of the committed images."""
        return {v: sha256_file(self.image_path(job_path, v)) for v in self.versions(job_path)}

    def run_and_kill_after_checkpoints(self, job, argv, stdout_path, min_versions=1, **kw):
        """Starts a fresh job, waits until it has committed version min_versions, SIGKILLs the
        program and checks that ckpt-run reported the kill. Returns the launcher."""
        launcher = self.start(job, argv, stdout_path, **kw)
        self.wait_for_version_above(launcher, min_versions - 1)
        rc = self.kill_program(launcher)
        check(rc == EXIT_KILLED, lambda: f"ckpt-run exited with {rc} after its program was SIGKILLed; "
              f"log:\n{launcher.log_text()}")
        return launcher

    def program_pid(self, launcher, what="the program to be running"):
        """The program pid from the status file, once the status names this launcher."""
        def ready():
            st = self.read_status(launcher.job_path)
            if launcher.poll() is not None:
                raise TestFailure(f"ckpt-run exited with {launcher.rc} while waiting for {what}; "
                                  f"log:\n{launcher.log_text()}")
            if st.get("launcher_pid") == str(launcher.pid) and st.get("state") == "running" \
                    and int(st.get("program_pid", "0")) > 0:
                return int(st["program_pid"])
            return None
        pid = self.poll(ready, what)
        self.program_pids.add(pid)
        return pid

    def kill_program(self, launcher):
        """SIGKILLs the program of a running launcher (pid from the status file, checked to be
        the launcher's child), then waits for the launcher to exit; returns its exit status."""
        pid = self.program_pid(launcher)
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            raise TestFailure(f"program pid {pid} vanished before it could be killed "
                              f"(launcher exit {launcher.poll()}); log:\n{launcher.log_text()}")
        try:
            ppid = parent_pid(pid)
            check(ppid == launcher.pid,
                  f"status file names program pid {pid}, but its parent is {ppid}, not the launcher {launcher.pid}")
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            raise TestFailure(f"program pid {pid} exited before it could be killed; log:\n{launcher.log_text()}")
        finally:
            os.close(fd)
        log(f"SIGKILL sent to program pid {pid} (launcher {launcher.pid})")
        return launcher.wait()

    def wait_for_version_above(self, launcher, version, what=None):
        """Waits until the job directory holds a committed version newer than `version`."""
        def newer():
            vs = self.versions(launcher.job_path)
            if vs and vs[-1] > version:
                return vs[-1]
            if launcher.poll() is not None:
                raise TestFailure(f"ckpt-run exited with {launcher.rc} before a checkpoint newer than "
                                  f"version {version} existed ({what or 'workload too short?'}); "
                                  f"log:\n{launcher.log_text()}")
            return None
        return self.poll(newer, what or f"a checkpoint version newer than {version}")

    def wait_for_log(self, launcher, pattern, what, timeout=DEFAULT_TIMEOUT):
        rx = re.compile(pattern)

        def found():
            m = rx.search(launcher.log_text())
            if m:
                return m
            if launcher.poll() is not None:
                m = rx.search(launcher.log_text())
                if m:
                    return m
                raise TestFailure(f"ckpt-run exited with {launcher.rc} before logging {what}; "
                                  f"log:\n{launcher.log_text()}")
            return None
        return self.poll(found, what, timeout)

    def mount_tmpfs(self, path, size):
        os.makedirs(path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise TestFailure(f"cannot mount a {size} tmpfs on {path} (this test needs root or "
                              f"CAP_SYS_ADMIN; not pretending): {r.stderr.strip()}")
        self.mounts.append(path)
        log(f"mounted a {size} tmpfs on {path}")

    # -- the headline scenario ---------------------------------------------------------------
    def kill_and_resume(self, argv, job="job", kills=None, max_extra_ms=600, cwd=None, reference=None):
        """Reference run, then the same command under ckpt-run, SIGKILLed `kills` times at a
        random moment after a new checkpoint exists and rerun each time; the reruns must restore
        from the newest version, the last one must exit 0 with output identical to the
        reference, and the job directory must be gone afterwards. CKPT_E2E_KILLS overrides
        the default of 3 kills (more need a longer workload)."""
        if kills is None:
            kills = int(os.environ.get("CKPT_E2E_KILLS", "3"))
        if reference is None:
            reference, _ = self.reference(argv, cwd=cwd)
        out = self.make_output()
        job_path = os.path.join(self.path("ckpt"), job)
        restored = []
        logs = []
        for attempt in range(kills + 1):
            before = self.versions(job_path)
            launcher = self.start(job, argv, out, cwd=cwd)
            logs.append(launcher)
            if attempt > 0:
                m = self.wait_for_log(launcher, RESTORED_RE.pattern, "the restore log line")
                v = int(m.group(1))
                check(not launcher.started_fresh(),
                      f"run {attempt + 1} started the program afresh instead of restoring; log:\n{launcher.log_text()}")
                check(v == before[-1], f"run {attempt + 1} restored version {v}, but the newest "
                      f"committed version was {before[-1]} (versions {before}); log:\n{launcher.log_text()}")
                restored.append(v)
                log(f"run {attempt + 1}: restored from checkpoint version {v}")
            if attempt == kills:
                break
            newest = self.wait_for_version_above(
                launcher, before[-1] if before else 0,
                f"a new checkpoint in run {attempt + 1} (kill {attempt + 1} of {kills}; "
                f"workload too short if the program finished)")
            extra = self.rng.uniform(0, max_extra_ms / 1000)
            time.sleep(extra)  # the random kill moment, not synchronisation
            check(launcher.poll() is None,
                  f"program finished (ckpt-run exit {launcher.rc}) before kill {attempt + 1} of {kills}: "
                  f"workload too short; log:\n{launcher.log_text()}")
            rc = self.kill_program(launcher)
            check(rc == EXIT_KILLED, f"ckpt-run exited with {rc} after its program was SIGKILLed, "
                  f"expected {EXIT_KILLED}; log:\n{launcher.log_text()}")
            log(f"kill {attempt + 1}: {extra * 1000:.0f} ms after version {newest} existed; "
                f"versions now {self.versions(job_path)}")
            check(self.versions(job_path), f"no checkpoint left after kill {attempt + 1}")
        rc = launcher.wait(120)
        check(rc == 0, f"final run exited with {rc}, expected 0; log:\n{launcher.log_text()}")
        actual = read_bytes(out)
        check(actual == reference, "output differs from the uninterrupted run: " +
              describe_difference(reference, actual))
        check(not os.path.exists(job_path),
              lambda: f"job directory {job_path} still exists after exit 0: {os.listdir(job_path)}")
        evidence = MODES[self.mode][1] if self.mode else None
        if evidence:
            check(any(re.search(evidence, run.log_text()) for run in logs),
                  lambda: f"mode {self.mode}: no launcher log shows /{evidence}/ (did the mode take effect?); "
                  f"last log:\n{launcher.log_text()}")
        log(f"{kills} kills, restored from versions {restored}; output identical "
            f"({len(actual)} bytes); job directory removed")
        return restored


def main(name, body):
    """Runs body(harness) inside a Harness; exit status 0 = pass."""
    with Harness(name) as h:
        body(h)


if __name__ == "__main__":
    # `ckpt_harness.py --list-modes CKPT_RUN`: the modes to register, one a line.
    if len(sys.argv) == 3 and sys.argv[1] == "--list-modes":
        print("\n".join(available_modes(sys.argv[2])))
        sys.exit(0)
    sys.exit("usage: ckpt_harness.py --list-modes CKPT_RUN")
