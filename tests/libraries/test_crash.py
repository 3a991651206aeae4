#!/usr/bin/env python3
"""Crash test of the three libraries (crash_worker.c): the worker is SIGKILLed at least 50 times
at random moments and 18 times at exact points inside a save (in the data, in the index record,
just after the commit), a cp_check (data flushed but not durable; position staged but not
committed) and a dataset write (inside its transaction), each restart checking what survived
(see crash_worker.c). The last run must finish, and the checkpointed stream must then be byte
for byte the output of an uninterrupted run. `ckptctl regions` must verify the file throughout.

  test_crash.py --worker PATH --ckptctl PATH [--kills N] [--seed S]"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

UNBOUNDED = 10**9  # the killed runs never reach their end
TAIL = 50         # iterations the last run adds
POINTS = ["regions.data", "regions.index", "regions.committed", "cp.check.flushed", "cp.check.staged", "cps.write"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", required=True)
    ap.add_argument("--ckptctl", required=True)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CKP_CRASH_SEED", time.time_ns() % 1000000)))
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    print(f"seed {a.seed} (CKP_CRASH_SEED={a.seed} repeats the kill moments)")
    tmp = tempfile.mkdtemp(prefix="ckp-crash-")
    proc = None
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CKPT_", "CKP_", "LD_PRELOAD"))}
        env["CKP_CP_STORE"] = os.path.join(tmp, "cp.db")
        env["CL_CKPT_LIBRARY_DB"] = os.path.join(tmp, "cps.db")
        out = os.path.join(tmp, "out.txt")
        regions = os.path.join(tmp, "regions")

        def size():
            try:
                return os.path.getsize(out)
            except FileNotFoundError:
                return 0

        def check_output(text, what):
            if "FAIL" in text or "RESUMED" not in text:
                fail(f"{what}: the restarted worker found damage:\n{text}")

        def ckptctl_regions():
            if not os.path.exists(regions + ".idx"):
                return
            p = subprocess.run([a.ckptctl, "regions", regions], capture_output=True, text=True, env=env, timeout=60)
            if p.returncode != 0:
                fail(f"ckptctl regions exited {p.returncode}:\n{p.stdout}{p.stderr}")

        # Exact points, each reached 1-4 times into a run; mixed in among the random kills.
        plan = [("point", pt, rnd.randint(1, 4)) for pt in POINTS for _ in range(3)]
        plan += [("random", None, None)] * a.kills
        rnd.shuffle(plan)
        kills = 0
        for kind, point, after in plan:
            run_env = dict(env)
            if kind == "point":
                run_env["CKP_TEST_KILL_POINT"] = point
                run_env["CKP_TEST_KILL_AFTER"] = str(after)
            before = size()
            proc = subprocess.Popen([a.worker, tmp, str(UNBOUNDED)], env=run_env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            if kind == "random":
                # Once it has made progress (so that every kill lands in the loop), a random moment.
                deadline = time.monotonic() + 60
                while size() <= before and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(rnd.uniform(0, 0.06))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            text = proc.communicate(timeout=60)[0]
            rc = proc.returncode
            proc = None
            check_output(text, f"run after {kills} kills")
            if rc == 0:
                fail(f"the worker finished a run that was to be killed ({kills} kills)")
            if rc != -signal.SIGKILL:
                fail(f"the worker exited {rc}, not by SIGKILL ({kind} {point}):\n{text}")
            kills += 1
            if kills % 10 == 0:
                ckptctl_regions()
        # The last run continues to the end.
        iterations = size() // 14 + TAIL
        p = subprocess.run([a.worker, tmp, str(iterations)], env=env, capture_output=True, text=True, timeout=300)
        check_output(p.stdout, "the last run")
        if p.returncode != 0 or "DONE" not in p.stdout:
            fail(f"the last run exited {p.returncode}:\n{p.stdout}{p.stderr}")
        ckptctl_regions()
        want = "".join(f"line {i:08d}\n" for i in range(iterations)).encode()
        with open(out, "rb") as f:
            got = f.read()
        if got != want:
            fail(f"the stream differs from an uninterrupted run ({len(got)} bytes, want {len(want)})")
        print(f"PASS: {kills} SIGKILLs ({a.kills} random, {len(POINTS) * 3} at exact points), stream identical")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
