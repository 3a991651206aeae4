#!/usr/bin/python3
"""Driver of the API tests (tests/api): runs the C test programs directly and under ckpt-run
in a fresh checkpoint root, and checks their exit status, their success marker and what is
left in the job directory.

    run_api_tests.py --ckpt-run PATH --programs DIR TEST
    run_api_tests.py --cmake CMAKE --build-dir DIR --source-dir DIR --cc CC --cxx CXX pkgconfig

Every program runs with only descriptors 0, 1 and 2 open (a pipe to another process on a
higher descriptor makes the runtime refuse checkpoints). Exit status 0 when the test passed.
"""
import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def clean_env(root):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKPT_") and k != "LD_PRELOAD"}
    env["CKPT_DIR"] = root
    return env


def run(cmd, env, cwd, timeout=120):
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout, close_fds=True)
    for line in p.stdout.splitlines():
        print("  out:", line)
    for line in p.stderr.splitlines():
        print("  err:", line)
    print("  exit status", p.returncode, flush=True)
    return p


def images(job_dir):
    return sorted(glob.glob(os.path.join(job_dir, "ckpt-*.img")))


def job_dirs(root):
    return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))) if os.path.isdir(root) else []


def test_contract(a, tmp):
    root = os.path.join(tmp, "state")
    env = clean_env(root)
    env["CKPT_NAME"] = "contract"
    job = os.path.join(root, "contract")
    prog = os.path.join(a.programs, "api_contract")
    p = run([prog, job, os.path.join(tmp, "scratch")], env, tmp)
    expect(p.returncode == 0, "api_contract failed")
    expect(p.stdout.strip() == "API-CONTRACT-OK", "no success marker")
    expect(not os.path.exists(job), "exit status 0 must remove the checkpoints (CKPT_KEEP unset)")

    # The same with CKPT_KEEP=1: the newest three versions stay.
    env["CKPT_KEEP"] = "1"
    p = run([prog, job, os.path.join(tmp, "scratch")], env, tmp)
    expect(p.returncode == 0 and p.stdout.strip() == "API-CONTRACT-OK", "api_contract failed with CKPT_KEEP=1")
    kept = [os.path.basename(i) for i in images(job)]
    expect(kept == ["ckpt-000002.img", "ckpt-000003.img", "ckpt-000004.img"],
           f"CKPT_KEEP=1 must keep the newest three versions, found {kept}")
    expect(not glob.glob(os.path.join(job, ".protected-*")), "rollback left its protected-bytes file behind")


def test_threads(a, tmp):
    """chkpnt() from a second thread, rollback() from the main thread (api_threads.c)."""
    root = os.path.join(tmp, "state")
    env = clean_env(root)
    env["CKPT_NAME"] = "threads"
    job = os.path.join(root, "threads")
    p = run([os.path.join(a.programs, "api_threads"), job], env, tmp)
    expect(p.returncode == 0 and p.stdout.strip() == "API-THREADS-OK",
           f"api_threads failed ({p.returncode}): {p.stdout!r} {p.stderr!r}")
    expect(not os.path.exists(job), "exit status 0 must remove the checkpoints")


def test_unusable_dir(a, tmp):
    root = os.path.join(tmp, "not-a-directory")
    with open(root, "w") as f:
        f.write("a file where the checkpoint root should be\n")
    p = run([os.path.join(a.programs, "api_contract"), "--unusable-dir"], clean_env(root), tmp)
    expect(p.returncode == 0 and p.stdout.strip() == "API-UNUSABLE-DIR-OK", "api_contract --unusable-dir failed")


def test_launcher(a, tmp, keep):
    root = os.path.join(tmp, "state")
    job = os.path.join(root, "launcher")
    p = run([a.ckpt_run, "--dir", root, "--name", "launcher", "--interval", "1h", "-v", "--",
             os.path.join(a.programs, "api_launcher"), job, "keep" if keep else "nokeep"], clean_env(root), tmp)
    expect(p.returncode == 0, "api_launcher under ckpt-run failed")
    expect(p.stdout.strip() == "API-LAUNCHER-OK", "no success marker")
    expect("set the checkpoint interval to" in p.stderr, "the launcher did not log the interval change")
    if keep:
        expect(os.path.isdir(job) and len(images(job)) > 0,
               "ckpt_keep(1): the job directory and its checkpoints must outlive exit status 0")
    else:
        expect(not os.path.exists(job), "ckpt_keep(0): exit status 0 must remove the job directory")


def test_recover(a, tmp, first_standalone):
    root = os.path.join(tmp, "state")
    # A relative root, while the program changes directory (--chdir) before chkpnt(): the
    # runtime and ckpt-run must both anchor it at the starting directory.
    env = clean_env("state")
    prog = os.path.join(a.programs, "api_recover")
    # The command line must be the same both times: it names the job.
    cmd = [prog, "--chdir", "another argument", ""]
    launch = [a.ckpt_run, "--interval", "1h", "--"]
    first = run(cmd if first_standalone else launch + cmd, env, tmp)
    if first_standalone:
        expect(first.returncode == -9, "the first run must die of SIGKILL")
    else:
        expect(first.returncode == 128 + 9, "ckpt-run must report the SIGKILL as 137")
    expect("checkpoint taken, crashing" in first.stdout, "the first run did not take its checkpoint")
    jobs = job_dirs(root)
    expect(len(jobs) == 1 and jobs[0].startswith("api_recover-"), f"one job directory expected, found {jobs}")
    job = os.path.join(root, jobs[0])
    expect(len(images(job)) == 1, "the first run must leave exactly one checkpoint")

    second = run([a.ckpt_run, "--interval", "1h", "-v", "--"] + cmd, env, tmp)
    expect(second.returncode == 0, "the second run (recovery) failed")
    # After the recovery: chkpnt() (1 checkpoint), rollback(1, 5) to the first run's
    # checkpoint, then periodic checkpoints every 50 ms for half a second.
    expect(second.stderr.count("committed") >= 3, "periodic checkpoints after the rollback are missing")
    expect("API-RECOVERED-OK" in second.stdout, "chkpnt() did not return CKPT_RECOVERED")
    expect("checkpoint taken, crashing" not in second.stdout, "the second run started afresh")
    expect(not os.path.exists(job), "exit status 0 under ckpt-run must remove the job directory")


def test_inherited_fds(a, tmp):
    """Standalone start with a leaked pipe and socket (defect 10 of issue 8): checkpoint,
    SIGKILL, recovery under ckpt-run; the program checks the descriptors are /dev/null."""
    root = os.path.join(tmp, "state")
    env = clean_env(root)
    rd, wr = os.pipe()
    s1, s2 = socket.socketpair()
    try:
        cmd = [os.path.join(a.programs, "api_inherited"), str(rd), str(s1.fileno())]
        print("$", " ".join(cmd), f"(with fds {rd} and {s1.fileno()} inherited)", flush=True)
        first = subprocess.run(cmd, env=env, cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=120, pass_fds=(rd, s1.fileno()))
        for line in first.stdout.splitlines() + first.stderr.splitlines():
            print("  ", line)
        print("  exit status", first.returncode, flush=True)
    finally:
        os.close(rd)
        os.close(wr)
        s1.close()
        s2.close()
    expect(first.returncode == -9, "the first run must take its checkpoint and die of SIGKILL")
    expect(first.stderr.count("inherited at start") == 2,
           "the runtime must say once per descriptor that it was inherited")
    jobs = job_dirs(root)
    expect(len(jobs) == 1 and len(images(os.path.join(root, jobs[0]))) == 1, "one checkpoint expected")
    second = run([a.ckpt_run, "--interval", "1h", "--"] + cmd, env, tmp)
    expect(second.returncode == 0, "the recovery failed")
    expect("API-INHERITED-OK" in second.stdout, "no success marker")
    expect(second.stderr.count("is /dev/null now") == 2, "the restore must say what became of the descriptors")
    expect(not os.path.exists(os.path.join(root, jobs[0])), "exit status 0 under ckpt-run must remove the job directory")


def test_file_undo(a, tmp):
    root = os.path.join(tmp, "state")
    work = os.path.join(tmp, "files")
    os.mkdir(work)
    env = clean_env(root)
    env["CKPT_NAME"] = "file-undo"
    p = run([os.path.join(a.programs, "api_file_undo"), work], env, tmp)
    expect(p.returncode == 0 and p.stdout.strip() == "API-FILE-UNDO-OK", "api_file_undo standalone failed")
    p = run([a.ckpt_run, "--dir", root, "--name", "file-undo-run", "--interval", "1h", "--",
             os.path.join(a.programs, "api_file_undo"), work], env, tmp)
    expect(p.returncode == 0 and p.stdout.strip() == "API-FILE-UNDO-OK", "api_file_undo under ckpt-run failed")


def launched(a, prog, args, extra=()):
    return [a.ckpt_run, "--interval", "1h", *extra, "--", os.path.join(a.programs, prog), *args]


def test_lineage(a, tmp):
    """Issue 9 item 1: after rollback(1) and a SIGKILL, the recovery restores v1 (the retired
    v2 is gone), with the file of v1 and the protected flag of v1."""
    env = clean_env(os.path.join(tmp, "state"))
    data = os.path.join(tmp, "data.txt")
    first = run(launched(a, "api_lineage", [data]), env, tmp)
    expect(first.returncode == 128 + 9, "the first run must die of SIGKILL after its rollback")
    expect("rolled back to v1, crashing" in first.stdout, "the first run did not roll back")
    second = run(launched(a, "api_lineage", [data], ["-v"]), env, tmp)
    expect(second.returncode == 0 and "API-LINEAGE-OK" in second.stdout,
           "the recovery after the rollback did not come back at v1 with v1's file and flag")
    with open(data) as f:
        expect(f.read() == "state of v1", "the file is not as it was at v1")


def test_shared_map(a, tmp):
    """Issue 9 item 3: a file written through a MAP_SHARED mapping after the checkpoint is
    rolled back by the recovery, which then restores (no exit 79)."""
    env = clean_env(os.path.join(tmp, "state"))
    data = os.path.join(tmp, "mapped.bin")
    first = run(launched(a, "api_shared_map", [data]), env, tmp)
    expect(first.returncode == 128 + 9 and "crashing" in first.stdout, "the first run must write and die of SIGKILL")
    second = run(launched(a, "api_shared_map", [data], ["-v"]), env, tmp)
    expect(second.returncode == 0 and "API-SHARED-MAP-OK" in second.stdout,
           f"the recovery did not restore the job (exit {second.returncode})")
    with open(data, "rb") as f:
        expect(f.read() == b"o" * (3 * 4096), "the file is not as it was at the checkpoint")


def test_undo_identity(a, tmp):
    """Issue 9 item 2: the undo of a rename acts only on the inode it moved; a record that
    cannot be applied fails the recovery with exit 83 and a message naming it, unless
    --on-undo-failure=proceed."""
    env = clean_env(os.path.join(tmp, "state"))
    work = os.path.join(tmp, "files")
    os.mkdir(work)
    a_txt, b_txt = os.path.join(work, "a.txt"), os.path.join(work, "b.txt")
    with open(a_txt, "w") as f:
        f.write("the original a\n")
    first = run(launched(a, "api_undo_identity", [work]), env, tmp)
    expect(first.returncode == 128 + 9 and "renamed, crashing" in first.stdout, "the first run must rename and die")
    # Someone else's file now stands at b.txt (another inode than the one the program moved,
    # which is kept alive elsewhere so that the new file cannot get its inode number).
    os.rename(b_txt, os.path.join(tmp, "moved-away.txt"))
    with open(b_txt, "w") as f:
        f.write("not the program's\n")
    second = run(launched(a, "api_undo_identity", [work]), env, tmp)
    expect(second.returncode == 83, f"the recovery must fail with exit 83, not {second.returncode}")
    expect("rename record" in second.stderr and "b.txt" in second.stderr,
           "the message must name the record that cannot be applied")
    expect(not os.path.exists(a_txt), "the foreign b.txt must not be moved to a.txt")
    with open(b_txt) as f:
        expect(f.read() == "not the program's\n", "the foreign b.txt must be left as it is")
    third = run(launched(a, "api_undo_identity", [work], ["--on-undo-failure=proceed"]), env, tmp)
    expect(third.returncode == 0 and "API-UNDO-IDENTITY-OK" in third.stdout,
           "--on-undo-failure=proceed must go on without the change")
    expect(not os.path.exists(a_txt) and os.path.exists(b_txt), "proceed must leave the foreign file where it is")


def test_pkgconfig(a, tmp):
    prefix = os.path.join(tmp, "prefix")
    p = run([a.cmake, "--install", a.build_dir, "--prefix", prefix], dict(os.environ), tmp)
    expect(p.returncode == 0, "cmake --install failed")
    pcs = glob.glob(os.path.join(prefix, "**", "pkgconfig", "ckpt.pc"), recursive=True)
    expect(len(pcs) == 1, f"ckpt.pc not installed below {prefix}")
    env = dict(os.environ)
    env["PKG_CONFIG_PATH"] = os.path.dirname(pcs[0])
    flags = run(["pkg-config", "--cflags", "--libs", "ckpt"], env, tmp)
    expect(flags.returncode == 0, "pkg-config --cflags --libs ckpt failed")
    libdir = run(["pkg-config", "--variable=libdir", "ckpt"], env, tmp).stdout.strip()
    expect(os.path.realpath(libdir).startswith(os.path.realpath(prefix)),
           f"ckpt.pc points at {libdir}, outside the prefix it was installed to")
    expect(os.path.exists(os.path.join(libdir, "libckpt.so")), "libckpt.so is not in the libdir of ckpt.pc")
    for inc in flags.stdout.split():
        if inc.startswith("-I"):
            expect(os.path.exists(os.path.join(inc[2:], "ckpt", "ckpt.h")), f"{inc}: no ckpt/ckpt.h there")
    src = os.path.join(a.source_dir, "tests", "api")
    run_env = clean_env(os.path.join(tmp, "state"))
    for compiler, source, marker in ((a.cc, "pkgconfig_hello.c", "PKGCONFIG-C-OK"),
                                     (a.cxx, "pkgconfig_hello.cpp", "PKGCONFIG-CXX-OK")):
        exe = os.path.join(tmp, source.replace(".", "_"))
        c = run([compiler, os.path.join(src, source), "-o", exe] + flags.stdout.split() + ["-Wl,-rpath," + libdir], env, tmp)
        expect(c.returncode == 0, f"{source} does not build with the flags of pkg-config")
        ldd = run(["ldd", exe], env, tmp)
        expect(os.path.join(libdir, "libckpt.so") in ldd.stdout.replace("//", "/") or
               os.path.realpath(libdir) in ldd.stdout, "the program is not linked to the installed libckpt.so")
        r = run([exe], run_env, tmp)
        expect(r.returncode == 0 and r.stdout.strip() == marker, f"{source}: the installed library does not work")


def test_bench_smoke(a, tmp):
    root = os.path.join(tmp, "state")
    env = clean_env(root)
    env["CKPT_NAME"] = "bench"
    p = run([os.path.join(a.programs, "bench_rollback"), "16", "3"], env, tmp)
    expect(p.returncode == 0, "bench_rollback failed")
    expect(re.fullmatch(r"\| 16 MiB \| [0-9.]+ ms \| [0-9.]+ ms \| [0-9.]+ ms \| [0-9.]+ ms \| 3 \|", p.stdout.strip())
           is not None, "bench_rollback did not print its table row")
    expect(p.stderr.count("rollback ") == 3, "expected three rollback samples")
    expect(not os.path.exists(os.path.join(root, "bench")), "exit status 0 must remove the checkpoints")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt-run")
    ap.add_argument("--programs")
    ap.add_argument("--cmake")
    ap.add_argument("--build-dir")
    ap.add_argument("--source-dir")
    ap.add_argument("--cc")
    ap.add_argument("--cxx")
    ap.add_argument("--keep-tmp", action="store_true", help="leave the temporary directory behind")
    ap.add_argument("test", choices=["contract", "threads", "unusable-dir", "launcher-keep", "launcher-nokeep",
                                     "recover-launcher", "recover-standalone", "inherited-fds", "file-undo", "pkgconfig",
                                     "bench-smoke", "lineage", "shared-map", "undo-identity"])
    a = ap.parse_args()
    for opt in ("ckpt_run", "programs", "build_dir", "source_dir"):
        if getattr(a, opt):
            setattr(a, opt, os.path.abspath(getattr(a, opt)))
    tmp = tempfile.mkdtemp(prefix="ckpt-api-")
    ok = False
    try:
        {
            "contract": lambda: test_contract(a, tmp),
            "threads": lambda: test_threads(a, tmp),
            "unusable-dir": lambda: test_unusable_dir(a, tmp),
            "launcher-keep": lambda: test_launcher(a, tmp, True),
            "launcher-nokeep": lambda: test_launcher(a, tmp, False),
            "recover-launcher": lambda: test_recover(a, tmp, False),
            "recover-standalone": lambda: test_recover(a, tmp, True),
            "inherited-fds": lambda: test_inherited_fds(a, tmp),
            "file-undo": lambda: test_file_undo(a, tmp),
            "pkgconfig": lambda: test_pkgconfig(a, tmp),
            "bench-smoke": lambda: test_bench_smoke(a, tmp),
            "lineage": lambda: test_lineage(a, tmp),
            "shared-map": lambda: test_shared_map(a, tmp),
            "undo-identity": lambda: test_undo_identity(a, tmp),
        }[a.test]()
        ok = True
    except Failure as e:
        print("FAILED:", e)
    except subprocess.TimeoutExpired as e:
        print("FAILED: timeout:", e)
    finally:
        if ok and not a.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("files left in", tmp)
    print("PASS" if ok else "FAIL", a.test)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
