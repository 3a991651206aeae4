#!/usr/bin/env python3
"""Runs each library example as a user would: once killed by CRASH_AT in the middle, then again
to the end; the second run must say it resumed and finish with the right result.

  run_examples.py --bin DIR {regions,stream,datasets}"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("example", choices=["regions", "stream", "datasets"])
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ckp-example-")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CKP_", "CL_CKPT", "CKPT_"))}
        env["CKP_CP_STORE"] = os.path.join(tmp, "cp_store.db")
        env["CL_CKPT_LIBRARY_DB"] = os.path.join(tmp, "datasets.db")
        prog = os.path.join(a.bin, "example_" + a.example)
        text = "".join(f"line {i} of the input\n" for i in range(8))
        if a.example == "regions":
            cmd, want_resumed, want_end = [prog, tmp], "resumed after step 4", "sum of 1..10 = 55"
        elif a.example == "stream":
            with open(os.path.join(tmp, "in.txt"), "w") as f:
                f.write(text)
            cmd = [prog, os.path.join(tmp, "in.txt"), os.path.join(tmp, "out.txt")]
            want_resumed, want_end = "resumed at byte", "copied"
        else:
            cmd, want_resumed, want_end = [prog], "resumed after update 4", "5 updates stored"
        first = subprocess.run(cmd, env=dict(env, CRASH_AT="4"), capture_output=True, text=True, timeout=60)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        print(first.returncode, first.stdout, second.returncode, second.stdout, second.stderr, sep="\n")
        ok = first.returncode == -9 and second.returncode == 0 and want_resumed in second.stdout \
            and want_end in second.stdout
        if ok and a.example == "stream":
            with open(os.path.join(tmp, "out.txt")) as f:
                ok = f.read() == text.upper()
        print("PASS" if ok else "FAIL")
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
