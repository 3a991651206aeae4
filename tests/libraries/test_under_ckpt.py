#!/usr/bin/env python3
"""Runs under_ckpt.c started directly (standalone mode) and under ckpt-run, each in a fresh work
directory and checkpoint root; it must print LIBRARIES-UNDER-CKPT-OK (the program checks what a rollback did to each library's files).

  test_under_ckpt.py --program PATH --ckpt-run PATH"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile


def run(cmd, env):
    p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    print("$", " ".join(cmd), "->", p.returncode)
    sys.stdout.write(p.stdout + p.stderr)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--program", required=True)
    ap.add_argument("--ckpt-run", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ckp-under-")
    try:
        ok = True
        # Started directly (standalone mode: the runtime sets itself up at the first API call)
        # and under ckpt-run: the rollback must undo the same, stdio writes included.
        for mode in ("direct", "ckpt-run"):
            work = os.path.join(tmp, mode)
            root = os.path.join(tmp, mode + "-root")
            os.mkdir(work)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("CKPT_", "CKP_", "CL_CKPT")) and k != "LD_PRELOAD"}
            env["CKPT_DIR"] = root
            env["CKPT_NAME"] = "libs-" + mode
            cmd = [a.program, work]
            if mode == "ckpt-run":
                cmd = [a.ckpt_run, "--dir", root, "--name", "libs-run", "--interval", "1h", "--"] + cmd
            p = run(cmd, env)
            if p.returncode != 0 or p.stdout.strip() != "LIBRARIES-UNDER-CKPT-OK":
                print(f"FAIL: {mode}")
                ok = False
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
