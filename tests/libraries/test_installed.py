#!/usr/bin/env python3
"""libckp as installed: `cmake --install` into a fresh prefix, then the three examples of
docs/examples/libraries built from the installed headers with `pkg-config --cflags --libs ckp`
alone, linked to the installed libckp.so, and run.

  test_installed.py --cmake PATH --build-dir DIR --source-dir DIR --cc PATH"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile


def run(cmd, env):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        print("$", " ".join(cmd), "->", p.returncode, p.stdout, p.stderr, sep="\n")
    return p


def main():
    ap = argparse.ArgumentParser()
    for o in ("--cmake", "--build-dir", "--source-dir", "--cc"):
        ap.add_argument(o, required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ckp-installed-")
    try:
        prefix = os.path.join(tmp, "prefix")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CKP_", "CL_CKPT", "CKPT_"))}
        if run([a.cmake, "--install", a.build_dir, "--prefix", prefix], env).returncode != 0:
            sys.exit("FAIL: cmake --install")
        pcs = glob.glob(os.path.join(prefix, "**", "pkgconfig", "ckp.pc"), recursive=True)
        if len(pcs) != 1:
            sys.exit(f"FAIL: ckp.pc not installed below {prefix}")
        env["PKG_CONFIG_PATH"] = os.path.dirname(pcs[0])
        flags = run(["pkg-config", "--cflags", "--libs", "ckp"], env)
        libdir = run(["pkg-config", "--variable=libdir", "ckp"], env).stdout.strip()
        if flags.returncode != 0 or not os.path.realpath(libdir).startswith(os.path.realpath(prefix)):
            sys.exit(f"FAIL: pkg-config ckp ({flags.stdout.strip()}, libdir {libdir})")
        for h in ("ckp_util.h", "cp_file.h", "cl_ckpt_library.h", "cl_common.h"):
            if not glob.glob(os.path.join(prefix, "include", "ckp", h)):
                sys.exit(f"FAIL: include/ckp/{h} not installed")
        env["CKP_CP_STORE"] = os.path.join(tmp, "cp.db")
        env["CL_CKPT_LIBRARY_DB"] = os.path.join(tmp, "cps.db")
        with open(os.path.join(tmp, "in.txt"), "w") as f:
            f.write("abc\ndef\n")
        runs = {"regions": ([tmp], "sum of 1..10 = 55"),
                "stream": ([os.path.join(tmp, "in.txt"), os.path.join(tmp, "out.txt")], "copied"),
                "datasets": ([], "5 updates stored")}
        for ex, (args, want) in runs.items():
            exe = os.path.join(tmp, ex)
            src = os.path.join(a.source_dir, "docs", "examples", "libraries", ex + ".c")
            if run([a.cc, src, "-o", exe] + flags.stdout.split() + ["-Wl,-rpath," + libdir], env).returncode != 0:
                sys.exit(f"FAIL: {ex}.c does not build with pkg-config ckp")
            ldd = run(["ldd", exe], env).stdout
            if os.path.realpath(os.path.join(libdir, "libckp.so.0")) not in \
                    [os.path.realpath(w) for w in ldd.split() if "libckp" in w]:
                sys.exit(f"FAIL: {ex} is not linked to the installed libckp.so:\n{ldd}")
            r = run([exe] + args, env)
            if r.returncode != 0 or want not in r.stdout:
                sys.exit(f"FAIL: {ex} with the installed library: {r.stdout}{r.stderr}")
        print("PASS")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
