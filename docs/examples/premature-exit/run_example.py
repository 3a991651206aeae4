#!/usr/bin/python3
"""Runs the premature-exit example the way a user would, and checks its outcome.

    run_example.py --ckpt-run PATH --program PATH file|memory

1. Reference: the resource is there from the start; the program runs to the end.
2. First run, started directly, without the resource (the file does not exist yet, or the
   address space is limited like `ulimit -v`): it checkpoints and exits with status 75
   after the first half of the steps.
3. The resource becomes available; the same command under ckpt-run resumes at the
   checkpoint (CKPT_RECOVERED), does only the second half and prints the same result as the
   reference run.
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

STEPS = 20
NEED_MIB = 1024          # memory mode: what the program asks for halfway ...
LIMIT_MIB = 768          # ... and the address-space limit of the first run


def run(cmd, cwd, env, limit_mib=None):
    def limit():
        if limit_mib:
            resource.setrlimit(resource.RLIMIT_AS, (limit_mib << 20, limit_mib << 20))
    print("$", ("ulimit -v %d; " % (limit_mib * 1024) if limit_mib else "") + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300, close_fds=True, preexec_fn=limit)
    for line in p.stdout.splitlines():
        print("  out:", line)
    for line in p.stderr.splitlines():
        print("  err:", line)
    print("  exit status", p.returncode, flush=True)
    return p


def steps_done(out):
    return [int(m) for m in re.findall(r"^step (\d+) done$", out, re.M)]


def result(out):
    m = re.search(r"^result ([0-9a-f]{16})$", out, re.M)
    return m.group(1) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt-run", required=True)
    ap.add_argument("--program", required=True)
    ap.add_argument("mode", choices=["file", "memory"])
    a = ap.parse_args()
    ckpt_run, program = os.path.abspath(a.ckpt_run), os.path.abspath(a.program)
    tmp = tempfile.mkdtemp(prefix="ckpt-premature-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKPT_") and k != "LD_PRELOAD"}
    env["CKPT_DIR"] = os.path.join(tmp, "state")
    factor_file = os.path.join(tmp, "factor.txt")
    if a.mode == "file":
        cmd = [program, "--file", factor_file, str(STEPS)]
    else:
        cmd = [program, "--memory", str(NEED_MIB), str(STEPS)]
    half = STEPS // 2
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)
            print("FAILED:", what, flush=True)

    # 1. Reference run, with the resource (in another directory: another job).
    ref_dir = os.path.join(tmp, "reference")
    os.mkdir(ref_dir)
    with open(factor_file, "w") as f:
        f.write("12345\n")
    ref = run(cmd, ref_dir, env)
    expect(ref.returncode == 0 and steps_done(ref.stdout) == list(range(1, STEPS + 1)), "reference run failed")
    reference = result(ref.stdout)

    # 2. Without the resource: checkpoint, then exit 75.
    if a.mode == "file":
        os.unlink(factor_file)
    first = run(cmd, tmp, env, limit_mib=LIMIT_MIB if a.mode == "memory" else None)
    expect(first.returncode == 75, "the first run must exit with status 75 after checkpointing")
    expect(steps_done(first.stdout) == list(range(1, half + 1)), "the first run must do the first half")
    expect("progress saved" in first.stderr, "the first run did not save its progress")
    jobs = os.listdir(env["CKPT_DIR"]) if os.path.isdir(env["CKPT_DIR"]) else []
    expect(len(jobs) == 1, "one job directory expected after the first run")

    # 3. The resource is back: ckpt-run resumes at the checkpoint.
    if a.mode == "file":
        with open(factor_file, "w") as f:
            f.write("12345\n")
    second = run([ckpt_run, "--interval", "1h", "--"] + cmd, tmp, env)
    expect(second.returncode == 0, "the resumed run must complete with status 0")
    lines = second.stdout.splitlines()
    expect(bool(lines) and lines[0] == "resumed: chkpnt() returned CKPT_RECOVERED in recovered mode, trying again",
           "the resumed run must start at chkpnt() returning CKPT_RECOVERED")
    expect(steps_done(second.stdout) == list(range(half + 1, STEPS + 1)),
           "the resumed run must do exactly the second half (the first half is not redone)")
    expect(result(second.stdout) == reference and reference is not None,
           "the resumed run must print the reference result")
    expect(not os.listdir(env["CKPT_DIR"]), "the checkpoints must be gone after the completed run")

    if failures:
        print("FAIL premature-exit", a.mode, "- files left in", tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"PASS premature-exit ({a.mode}): steps 1-{half} before the exit, {half + 1}-{STEPS} after the "
          f"recovery, result {reference} as without the interruption")
    return 0


if __name__ == "__main__":
    sys.exit(main())
