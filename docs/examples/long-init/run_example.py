#!/usr/bin/python3
"""Runs the long-initialization example with and without the bypass, checks that the
results are identical and prints the speed-up.

    run_example.py --ckpt-run PATH --program PATH [--sets N] [--min-speedup X]

Without the bypass every input set costs a whole run: initialization + processing.
With it, the first run initializes, checkpoints and processes; every later run
(`ckpt-run -- long_init TICKET`, the ticket naming the next input) restores the initialized
state and only processes. A third way does all sets in one process, going back to the
initialized state with rollback() between them. Times are wall-clock (CLOCK_MONOTONIC)
around each whole command.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROUNDS = "128"


def run(cmd, cwd, env):
    print("$", " ".join(cmd), flush=True)
    t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
    p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600, close_fds=True)
    elapsed = time.clock_gettime(time.CLOCK_MONOTONIC) - t0
    for line in p.stdout.splitlines():
        print("  out:", line)
    for line in p.stderr.splitlines():
        print("  err:", line)
    print(f"  exit status {p.returncode}, {elapsed:.3f} s", flush=True)
    return p, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt-run", required=True)
    ap.add_argument("--program", required=True)
    ap.add_argument("--sets", type=int, default=3)
    ap.add_argument("--min-speedup", type=float, default=2.0,
                    help="fail if a restored run is not at least this much faster than a full run")
    a = ap.parse_args()
    ckpt_run, program = os.path.abspath(a.ckpt_run), os.path.abspath(a.program)
    tmp = tempfile.mkdtemp(prefix="ckpt-long-init-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKPT_") and k != "LD_PRELOAD"}
    env["CKPT_DIR"] = os.path.join(tmp, "state")
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)
            print("FAILED:", what, flush=True)

    rng = random.Random(4)
    inputs = []
    for k in range(1, a.sets + 1):
        path = os.path.join(tmp, f"input-{k}.txt")
        with open(path, "w") as f:
            f.write("\n".join(str(rng.getrandbits(48)) for _ in range(50000)) + "\n")
        inputs.append(path)
    ticket = os.path.join(tmp, "ticket")

    def set_ticket(lines):
        with open(ticket + ".new", "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.replace(ticket + ".new", ticket)

    # Without the bypass: one full run per input set.
    plain, plain_t = [], []
    for path in inputs:
        set_ticket([path])
        p, t = run([program, "--no-bypass", "--rounds", ROUNDS, ticket], tmp, env)
        expect(p.returncode == 0, "run without bypass failed")
        plain.append(p.stdout.strip())
        plain_t.append(t)

    # With the bypass, across runs: the same command each time, the ticket names the input.
    bypass_cmd = [ckpt_run, "--interval", "1h", "--", program, "--rounds", ROUNDS, ticket]
    byp, byp_t = [], []
    for k, path in enumerate(inputs):
        set_ticket([path])
        p, t = run(bypass_cmd, tmp, env)
        expect(p.returncode == 0, "run with bypass failed")
        want = "initialized, state checkpointed" if k == 0 else "initialized state restored by ckpt-run"
        expect(want in p.stderr, f"run {k + 1} with bypass: expected '{want}'")
        byp.append(p.stdout.strip())
        byp_t.append(t)

    # With the bypass in one process: rollback() between the input sets.
    env_loop = dict(env, CKPT_NAME="loop")
    set_ticket(inputs)
    p, loop_t = run([program, "--rounds", ROUNDS, ticket], tmp, env_loop)
    expect(p.returncode == 0, "one-process run with rollback failed")
    loop = p.stdout.strip().splitlines()
    expect(p.stderr.count("restored by rollback") == a.sets - 1, "one-process run: expected a rollback per further set")

    expect(all(plain), "runs without bypass printed no result")
    expect(byp == plain, "results with the bypass across runs differ from those without")
    expect(loop == plain, "results with rollback in one process differ from those without")

    print()
    print("| input set | without bypass (init + process) | with bypass | speed-up |")
    print("|---|---|---|---|")
    for k in range(a.sets):
        how = "init + checkpoint + process" if k == 0 else "restore + process"
        print(f"| {k + 1} | {plain_t[k]:.3f} s | {byp_t[k]:.3f} s ({how}) | {plain_t[k] / byp_t[k]:.1f}x |")
    print(f"| all {a.sets}, one process with rollback() | {sum(plain_t):.3f} s | {loop_t:.3f} s | "
          f"{sum(plain_t) / loop_t:.1f}x |")
    print()
    restored = [plain_t[k] / byp_t[k] for k in range(1, a.sets)]
    expect(min(restored) >= a.min_speedup,
           f"a restored run must be at least {a.min_speedup}x faster than a full run (got {min(restored):.1f}x)")

    if failures:
        print("FAIL long-init - files left in", tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"PASS long-init: identical results, restored runs {min(restored):.1f}x to {max(restored):.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
