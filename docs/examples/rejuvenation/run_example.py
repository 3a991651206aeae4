#!/usr/bin/python3
"""Runs the memory-rejuvenation example with and without rollbacks and checks that the
resident memory stays bounded with them while the output is complete and correct.

    run_example.py --program PATH [--iterations N] [--period P] [--leak-kib K]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def run(cmd, cwd, env):
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600, close_fds=True)
    for line in p.stdout.splitlines():
        print("  out:", line)
    for line in p.stderr.splitlines():
        print("  err:", line)
    print("  exit status", p.returncode, flush=True)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--program", required=True)
    ap.add_argument("--iterations", type=int, default=150)
    ap.add_argument("--period", type=int, default=10)
    ap.add_argument("--leak-kib", type=int, default=1024)
    a = ap.parse_args()
    program = os.path.abspath(a.program)
    tmp = tempfile.mkdtemp(prefix="ckpt-rejuvenation-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKPT_") and k != "LD_PRELOAD"}
    env["CKPT_DIR"] = os.path.join(tmp, "state")
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)
            print("FAILED:", what, flush=True)

    n, period, leak = a.iterations, a.period, a.leak_kib
    # Without rollbacks: the leak grows to n * leak; its output is the reference.
    ref_out = os.path.join(tmp, "reference.txt")
    ref = run([program, ref_out, str(n), "0", str(leak)], tmp, env)
    expect(ref.returncode == 0, "the run without rollbacks failed")
    m = re.search(r"max rss (\d+) KiB", ref.stdout)
    leaky_max = int(m.group(1)) if m else 0
    expect(leaky_max >= n * leak * 0.9, f"the run without rollbacks should leak about {n * leak} KiB")

    # With a rollback to the clean state every `period` iterations.
    out = os.path.join(tmp, "output.txt")
    p = run([program, out, str(n), str(period), str(leak)], tmp, env)
    expect(p.returncode == 0, "the run with rollbacks failed")
    before = [int(x) for x in re.findall(r"rss (\d+) KiB, rolling back", p.stdout)]
    after = [int(x) for x in re.findall(r"back in the clean state, rss (\d+) KiB", p.stdout)]
    m = re.search(r"done: (\d+) iterations, (\d+) rollbacks, max rss (\d+) KiB", p.stdout)
    expect(m is not None, "no summary line")
    rollbacks = (n - 1) // period
    if m:
        max_rss = int(m.group(3))
        expect(int(m.group(1)) == n and int(m.group(2)) == rollbacks, f"expected {n} iterations, {rollbacks} rollbacks")
        # Bounded: the clean state plus at most one period of leaks (and some slack), far
        # below what the same run leaks without rollbacks.
        bound = (after[0] if after else 8192) + period * leak + 8192
        expect(max_rss < bound, f"max rss {max_rss} KiB with rollbacks is not below {bound} KiB")
        expect(max_rss * 3 < leaky_max, f"max rss {max_rss} KiB is not far below the leak ({leaky_max} KiB)")
    expect(len(before) == rollbacks and len(after) == rollbacks, "one rss line before and after each rollback")
    # Each rollback comes back to the same clean footprint.
    if after:
        expect(max(after) - min(after) < 4096, f"rss after the rollbacks varies too much: {after}")

    # The output: every index exactly once, in order, with the same values as without rollbacks.
    with open(out) as f:
        lines = f.read().splitlines()
    with open(ref_out) as f:
        ref_lines = f.read().splitlines()
    indices = [int(line.split()[0]) for line in lines if line.split()]
    expect(indices == list(range(n)), "the output must hold every index exactly once, in order")
    expect(lines == ref_lines, "the output differs from the run without rollbacks")

    if failures:
        print("FAIL rejuvenation - files left in", tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"PASS rejuvenation: {n} iterations, {rollbacks} rollbacks, max rss {max_rss} KiB "
          f"(without rollbacks {leaky_max} KiB), output complete and identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
