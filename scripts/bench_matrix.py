#!/usr/bin/python3
"""scripts/bench_matrix.py BUILD_DIR [--sizes 64,1024] [--reps 3] [--perl] [--tmp DIR]

The checkpoint matrix of issue 11, each ckpt figure beside the physical limit measured in the
same run on the same memory and disk (called by scripts/bench.sh as benchmark "matrix"; see
docs/performance.md). Prints Markdown tables on stdout, progress on stderr.

Per size N (MiB of incompressible, populated memory in a small C program, "tick", that ticks
every 5 ms and logs every gap longer than 12 ms):
  physical limits: plain fork() of the program (measured inside it), memcpy of its N MiB into
    a populated buffer, and for a file of the image's size in the bench directory: write into
    the page cache, write + fsync, read while cached, read after eviction (cold);
  ckpt: for each mode (sync = --no-fork and fork = the forked writer, both with full images;
    incremental with 0.1/1/10 % of the pages written before each checkpoint (the program
    writes them on SIGUSR2) and compressed only when ckpt-run --help lists --incremental /
    --compress): the pause (the
    longest gap between the program's ticks around the checkpoint), the wall time from the
    request (SIGUSR1 to ckpt-run, as ckptctl checkpoint) to the commit in the status file, and
    the bytes written;
  restart to running: SIGKILL, then the same ckpt-run command (and with --lazy, when ckpt-run
    has it), timed until its status file says running again, with the image cached and evicted.
With --perl: a perl hash workload (about 880 MiB of heap) plain, and under ckpt-run with a
checkpoint every 3 s and every 30 s (--max-overhead 0, so that the interval is kept).
Medians over --reps repetitions."""
import argparse
import mmap
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TICK_C = r"""
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static uint64_t now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000ull + t.tv_nsec; }
#include <signal.h>
static volatile sig_atomic_t dirty_asked;
static void on_usr2(int s) { (void)s; dirty_asked = 1; }
/* tick MIB LIMITS_FILE GAPS_FILE FORKS READY_FILE DIRTY_FILE
 * SIGUSR2: writes one word in each of every K-th page (K from DIRTY_FILE: "K SEQ"), then
 * writes "SEQ" to DIRTY_FILE.done. */
int main(int argc, char **argv)
{
    if (argc != 7) return 2;
    signal(SIGUSR2, on_usr2);
    size_t n = (size_t)atol(argv[1]) << 20;
    uint64_t *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n / 8; ++i) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; p[i] = s; }
    FILE *f = fopen(argv[2], "w");
    for (int k = 0; k < atoi(argv[4]); ++k) {
        uint64_t t0 = now();
        pid_t c = fork();
        if (c == 0) _exit(0);
        fprintf(f, "fork %llu\n", (unsigned long long)(now() - t0));
        waitpid(c, NULL, 0);
    }
    char *dst = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(dst, 1, n);  /* populated: the copy measures memory bandwidth, not page faults */
    for (int k = 0; k < 3; ++k) {
        uint64_t t0 = now();
        memcpy(dst, p, n);
        fprintf(f, "memcpy %llu\n", (unsigned long long)(now() - t0));
    }
    munmap(dst, n);
    fclose(f);
    int gaps = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0600);
    close(open(argv[5], O_WRONLY | O_CREAT, 0600));  /* ready */
    uint64_t last = now();
    for (volatile uint64_t sink = 0;; sink += p[(last / 4096) % (n / 8)]) {
        struct timespec d = {0, 5000000};
        nanosleep(&d, NULL);
        if (dirty_asked) {
            dirty_asked = 0;
            unsigned long k = 0, seq = 0;
            FILE *df = fopen(argv[6], "r");
            if (df && fscanf(df, "%lu %lu", &k, &seq) == 2 && k > 0)
                for (size_t pg = seq % k; pg < n / 4096; pg += k) p[pg * 512] ^= 0x5a5a5a5a5a5a5a5aull;
            if (df) fclose(df);
            char done[4096];
            snprintf(done, sizeof done, "%s.done", argv[6]);
            FILE *o = fopen(done, "w");
            if (o) fprintf(o, "%lu\n", seq), fclose(o);
            last = now();  /* the dirtying is the program's own work, not a pause */
            continue;
        }
        uint64_t t = now();
        if (t - last > 12000000) dprintf(gaps, "%llu %llu\n", (unsigned long long)t, (unsigned long long)(t - last));
        last = t;
    }
}
"""

# A perl job with a hash of 3.1 million entries (about 880 MiB of heap), then rounds of
# updates of pseudo-random entries; prints a checksum.
PERL_CODE = r"""
my ($n, $rounds) = @ARGV; my %h;
for my $i (1..$n) { $h{"key$i"} = ("v" x 100) . $i; }
my $s = 0;
for my $r (1..$rounds) { for my $j (1..200000) { my $k = "key" . (($r * 100003 + $j * 7919) % $n + 1);
    $h{$k} = substr($h{$k}, 1) . "x"; $s += length($h{$k}); } }
print "$s\n";
"""
PERL_ARGS = ["3100000", "80"]


def log(msg):
    print(f"bench_matrix: {msg}", file=sys.stderr, flush=True)


def status(path):
    try:
        with open(path) as f:
            return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except FileNotFoundError:
        return {}


def wait_for(cond, what, timeout=600, interval=0.002):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_matrix: timed out waiting for {what}")
        time.sleep(interval)


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm(path):
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass


def file_limits(d, nbytes):
    """Page-cache write, write+fsync, cached read, cold read of an nbytes file, in ns."""
    chunk = os.urandom(8 << 20)
    path = os.path.join(d, "limits.dat")
    out = {}

    def write(sync):
        if os.path.exists(path):
            os.unlink(path)
        subprocess.run(["sync"], check=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        t0 = time.monotonic_ns()
        left = nbytes
        while left > 0:
            left -= os.write(fd, chunk[:min(left, len(chunk))])
        if sync:
            os.fsync(fd)
        t = time.monotonic_ns() - t0
        os.close(fd)
        return t

    def read():
        fd = os.open(path, os.O_RDONLY)
        buf = bytearray(8 << 20)
        t0 = time.monotonic_ns()
        while os.readv(fd, [buf]) > 0:
            pass
        t = time.monotonic_ns() - t0
        os.close(fd)
        return t

    def read_fresh():
        # Into a new anonymous mapping of the file's size, as a restore must: every page is
        # allocated (a page fault and a zeroed page each) as well as copied from the cache.
        fd = os.open(path, os.O_RDONLY)
        t0 = time.monotonic_ns()
        m = mmap.mmap(-1, nbytes)
        view, at = memoryview(m), 0
        while at < nbytes:
            n = os.readv(fd, [view[at:at + (8 << 20)]])
            if n <= 0:
                break
            at += n
        t = time.monotonic_ns() - t0
        view.release()
        m.close()
        os.close(fd)
        return t

    out["cache_write"] = write(False)
    out["write_fsync"] = write(True)
    read()
    out["cached_read"] = read()
    out["fresh_read"] = read_fresh()
    evict(path)
    out["cold_read"] = read()
    os.unlink(path)
    return out


class Job:
    """The tick program under ckpt-run in one mode."""

    def __init__(self, a, d, size, mode, options):
        self.a, self.d, self.size, self.mode, self.options = a, d, size, mode, options
        safe = re.sub(r"[^\w.-]", "", mode.replace(" ", "-"))
        self.name = f"tick-{safe}-{size}"
        self.status_path = os.path.join(d, "ckpt", self.name, "status")
        self.gaps = os.path.join(d, f"gaps-{self.name}")
        self.limits = os.path.join(d, f"limits-{self.name}")
        self.ready = os.path.join(d, f"ready-{self.name}")
        self.dirty = os.path.join(d, f"dirty-{self.name}")
        self.seq = 0
        self.launcher = None

    def argv(self, extra=()):
        return [self.a.ckpt_run, "--dir", os.path.join(self.d, "ckpt"), "--name", self.name, "--interval", "1h",
                "--max-overhead", "0", "--keep", "-q", "--exclude", self.d, *self.options, *extra, "--",
                self.a.tick, str(self.size), self.limits, self.gaps, "5", self.ready, self.dirty]

    def start(self, extra=()):
        self.launcher = subprocess.Popen(self.argv(extra), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=open(os.path.join(self.d, f"{self.name}.log"), "ab"))
        return self.launcher

    def dirty_pages(self, every):
        """Has the program write one word in every `every`-th page (a different set each time)."""
        self.seq += 1
        with open(self.dirty + ".tmp", "w") as f:
            f.write(f"{every} {self.seq}\n")
        os.rename(self.dirty + ".tmp", self.dirty)
        os.kill(int(status(self.status_path)["program_pid"]), signal.SIGUSR2)

        def done():
            try:
                with open(self.dirty + ".done") as f:
                    return f.read().strip() == str(self.seq)
            except FileNotFoundError:
                return False
        wait_for(done, f"{self.name}: pages dirtied")

    def running(self, restored=False):
        def ok():
            if self.launcher.poll() is not None:
                raise SystemExit(f"bench_matrix: {self.name}: ckpt-run exited with {self.launcher.returncode}")
            st = status(self.status_path)
            return (st.get("launcher_pid") == str(self.launcher.pid) and st.get("state") == "running"
                    and (not restored or int(st.get("restores", "0")) >= 1))
        wait_for(ok, f"{self.name} running")

    def checkpoint(self):
        """(pause ns, wall ns, image bytes) of one checkpoint."""
        seq0 = status(self.status_path).get("seq", "0")
        t0 = time.monotonic_ns()
        os.kill(self.launcher.pid, signal.SIGUSR1)
        st = wait_for(lambda: (s := status(self.status_path)).get("seq", "0") != seq0 and s, "a checkpoint")
        t1 = time.monotonic_ns()
        if st.get("last_error"):
            raise SystemExit(f"bench_matrix: {self.name}: checkpoint failed: {st['last_error']}")
        time.sleep(0.2)  # gaps that end after the commit still count (the program resumed late)
        pause = 5000000
        try:
            with open(self.gaps) as f:
                for line in f:
                    t, g = map(int, line.split())
                    if t0 <= t <= t1 + 200000000:
                        pause = max(pause, g)
        except FileNotFoundError:
            pass
        return pause, t1 - t0, int(st.get("last_image_bytes", "0")), int(st.get("last_version", "0"))

    def kill_program(self):
        pid = int(status(self.status_path).get("program_pid", "0"))
        os.kill(pid, signal.SIGKILL)
        self.launcher.wait(120)

    def stop(self):
        if self.launcher and self.launcher.poll() is None:
            self.launcher.send_signal(signal.SIGTERM)
            try:
                self.launcher.wait(60)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait()


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ms(ns):
    return "n/a" if ns is None else f"{ns / 1e6:.1f}"


def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}"


def help_lists(ckpt_run, option):
    text = subprocess.run([ckpt_run, "--help"], capture_output=True, text=True).stdout
    return re.search(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])", text) is not None


def bench_size(a, d, size, modes):
    r = {"modes": {}}
    for mode, options, every in modes:
        job = Job(a, d, size, mode, options)
        pauses, walls, nbytes = [], [], []
        try:
            job.start()
            wait_for(lambda: os.path.exists(job.ready) or job.launcher.poll() is not None, f"{job.name} ready")
            job.running()
            for rep in range(a.reps + 1):  # the first is a warm-up
                subprocess.run(["sync"], check=True)
                if every and rep:  # the warm-up is the full image the increments refer to
                    job.dirty_pages(every)
                p, w, b, version = job.checkpoint()
                log(f"{job.name}: checkpoint {rep} (version {version}): pause {p / 1e6:.1f} ms, wall {w / 1e6:.1f} ms, "
                    f"{b / 2**20:.1f} MiB")
                if rep:
                    pauses.append(p), walls.append(w), nbytes.append(b)
            entry = {"pause": med(pauses), "wall": med(walls), "bytes": med(nbytes)}
            if mode == "fork":
                with open(job.limits) as f:
                    vals = [line.split() for line in f]
                r["fork"] = med([int(v) for k, v in vals if k == "fork"])
                r["memcpy"] = med([int(v) for k, v in vals if k == "memcpy"])
                image = os.path.join(d, "ckpt", job.name, f"ckpt-{version:06d}.img")
                restarts = {k: [] for k in ("cached", "cold", "lazy cached", "lazy cold")}
                kinds = ("cached", "cold") + (("lazy cached", "lazy cold") if a.lazy else ())
                for rep in range(a.reps):
                    for kind in kinds:
                        job.kill_program()
                        if kind.endswith("cold"):
                            evict(image)
                        else:  # a lazy restart killed early leaves part of the image uncached
                            warm(image)
                        t0 = time.monotonic_ns()
                        job.start(["--lazy"] if kind.startswith("lazy") else [])
                        job.running(restored=True)
                        restarts[kind].append(time.monotonic_ns() - t0)
                        log(f"{job.name}: restart ({kind}) {restarts[kind][-1] / 1e6:.1f} ms")
                r["restart"] = {k: med(v) for k, v in restarts.items()}
                r["image_bytes"] = os.path.getsize(image)
            r["modes"][mode] = entry
        finally:
            job.stop()
    lim = [file_limits(d, r["image_bytes"]) for _ in range(a.reps)]
    r["files"] = {k: med([x[k] for x in lim]) for k in lim[0]}
    return r


def perl_overhead(a, d):
    out = os.path.join(d, "perl.out")
    res = {}

    def timed(argv):
        """Wall ns and CPU ns (user + system of everything it ran, forked writers included:
        ckpt-run reaps them, and we reap ckpt-run)."""
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic_ns()
        with open(out, "wb") as o, open(os.path.join(d, "perl.log"), "ab") as err:
            rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=o, stderr=err).returncode
        if rc != 0:
            raise SystemExit(f"bench_matrix: {argv[0]} exited with {rc}")
        wall = time.monotonic_ns() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1e9
        return wall, cpu

    perl = ["/usr/bin/perl", "-e", PERL_CODE, *PERL_ARGS]
    # Plain before and after the checkpointed runs: the machine's load drifts (other builds).
    res["plain"] = timed(perl)
    log(f"perl plain: {res['plain'][0] / 1e9:.1f} s")
    for interval in ("3s", "30s"):
        logf = os.path.join(d, f"perl-{interval}.log")
        with open(logf, "w"):
            pass
        t = timed([a.ckpt_run, "--dir", os.path.join(d, "ckpt"), "--name", f"perl-{interval}", "--interval", interval,
                   "--max-overhead", "0", "-v", "--", *perl])
        # ckpt-run -v logs to stderr, which timed() appends to perl.log; count this run's commits.
        with open(os.path.join(d, "perl.log")) as f:
            text = f.read()
        runs = text.split("ckpt-run: info: started ")
        last = runs[-1] if len(runs) > 1 else ""
        commits = len(re.findall(r"checkpoint version \d+ committed", last))
        pauses = [float(x) for x in re.findall(r"program paused ([\d.]+) ms", last)]
        res[interval] = (t, commits, med(pauses))
        log(f"perl every {interval}: {t[0] / 1e9:.1f} s, {commits} checkpoints")
    res["plain_after"] = timed(perl)
    log(f"perl plain again: {res['plain_after'][0] / 1e9:.1f} s")
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--sizes", default="64,1024")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--perl", action="store_true")
    ap.add_argument("--tmp")
    a = ap.parse_args()
    a.ckpt_run = os.path.join(a.build_dir, "bin", "ckpt-run")
    d = tempfile.mkdtemp(prefix="bench-matrix.", dir=a.tmp or a.build_dir)
    a.tick = os.path.join(d, "tick")
    subprocess.run(["cc", "-O2", "-o", a.tick, "-x", "c", "-"], input=TICK_C.encode(), check=True)
    notes = []
    incremental = help_lists(a.ckpt_run, "--incremental")
    full = ["--no-incremental"] if incremental else []
    # (mode, options, dirty stride: every K-th page written before each measured checkpoint)
    modes = [("sync", ["--no-fork", *full], 0), ("fork", full, 0)]
    if incremental:
        modes += [("incremental 0.1 %", ["--incremental"], 1000), ("incremental 1 %", ["--incremental"], 100),
                  ("incremental 10 %", ["--incremental"], 10)]
    else:
        notes.append("incremental (0.1/1/10 % dirty): not measured, this ckpt-run has no --incremental")
    if help_lists(a.ckpt_run, "--compress"):
        modes.append(("compressed", ["--compress"], 0))
    else:
        notes.append("compressed: not measured, this ckpt-run has no --compress")
    a.lazy = help_lists(a.ckpt_run, "--lazy")
    if not a.lazy:
        notes.append("lazy restart: not measured, this ckpt-run has no --lazy")
    sizes = [int(s) for s in a.sizes.split(",") if s]
    results = {}
    try:
        for size in sizes:
            log(f"size {size} MiB")
            results[size] = bench_size(a, d, size, modes)
        perl = perl_overhead(a, d) if a.perl else None
    finally:
        subprocess.run(["rm", "-rf", d])

    print("#### Physical limits, measured in the same run (medians, ms)\n")
    print("fork() and memcpy inside the program on its own memory; the file operations on a file of the image's")
    print("size in the bench directory (write = into the page cache, no fsync; cold read = after POSIX_FADV_DONTNEED).\n")
    print("| MiB | image MiB | fork() | memcpy | page-cache write | write+fsync | cached read | cached read into new memory | cold read |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in results.items():
        f = r["files"]
        print(f"| {size} | {r['image_bytes'] / 2**20:.1f} | {ms(r['fork'])} | {ms(r['memcpy'])} | {ms(f['cache_write'])} | "
              f"{ms(f['write_fsync'])} | {ms(f['cached_read'])} | {ms(f['fresh_read'])} | {ms(f['cold_read'])} |")
    print("\n#### Checkpoints beside the limits (medians)\n")
    print("pause = longest gap between the program's 5 ms ticks around the checkpoint; wall = request to commit;")
    print("ratios: pause / plain fork(), wall / (write+fsync of the same bytes).\n")
    print("| MiB | mode | pause ms | pause / fork() | wall ms | wall / write+fsync | MiB written |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size, r in results.items():
        for mode, e in r["modes"].items():
            print(f"| {size} | {mode} | {ms(e['pause'])} | {ratio(e['pause'], r['fork'])} | {ms(e['wall'])} | "
                  f"{ratio(e['wall'], r['files']['write_fsync'])} | {e['bytes'] / 2**20:.1f} |")
    print("\n#### Restart to running (medians, ms)\n")
    print("From starting the same ckpt-run command after a SIGKILL until its status file says running (restored);")
    print("ratio to one read of the image-sized file: cached (into a reused 8 MiB buffer, and into new memory of")
    print("the file's size, as a restore must) and cold.\n")
    print("| MiB | restart, image cached | / cached read | / cached read into new memory | lazy, cached | "
          "restart, image evicted | / cold read | lazy, evicted |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in results.items():
        rs, f = r["restart"], r["files"]
        print(f"| {size} | {ms(rs['cached'])} | {ratio(rs['cached'], f['cached_read'])} | "
              f"{ratio(rs['cached'], f['fresh_read'])} | {ms(rs['lazy cached'])} | "
              f"{ms(rs['cold'])} | {ratio(rs['cold'], f['cold_read'])} | {ms(rs['lazy cold'])} |")
    if perl:
        print("\n#### Periodic overhead of a real program\n")
        print(f"perl hash workload (perl -e, {PERL_ARGS[0]} entries, about 880 MiB of heap; {PERL_ARGS[1]} rounds of 200000 updates),")
        print("plain (before and after) and under ckpt-run (default forked writer, --max-overhead 0); one run each;")
        print("ratios to the faster plain run. CPU = user + system time of all processes of the run (forked writers")
        print("included). pause = the program's pause as ckpt-run logs it (stop + fork).\n")
        print("| run | wall s | / plain | CPU s | / plain | checkpoints | median pause ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        base_w = min(perl["plain"][0], perl["plain_after"][0])
        base_c = min(perl["plain"][1], perl["plain_after"][1])
        for label, key in (("plain", "plain"), ("every 3s", "3s"), ("every 30s", "30s"), ("plain, after", "plain_after")):
            v = perl[key]
            (w, c), n, p = (v, "", None) if key.startswith("plain") else v
            print(f"| {label} | {w / 1e9:.1f} | {w / base_w:.2f} | {c / 1e9:.1f} | {c / base_c:.2f} | {n} | "
                  f"{'' if p is None else f'{p:.1f}'} |")
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    print()


if __name__ == "__main__":
    main()
