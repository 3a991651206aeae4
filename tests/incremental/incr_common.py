"""Helpers of the incremental-checkpoint tests: the chain program (tests/programs/incr_pages.c),
its reference output, a run under ckpt-run, and a restore of one chosen version (a copy of the
job directory without the newer versions: ckpt-run recovers the newest one there)."""
import os
import re
import shutil
import subprocess

from ckpt_harness import check, log, read_bytes

STEP_RE = re.compile(r"^step (\d+) ([0-9a-f]{16})$", re.M)
RESTORED_AT_RE = re.compile(r"^restored at step (\d+) ([0-9a-f]{16})$", re.M)


def ckptctl(h, root, *args):
    p = subprocess.run([os.environ["CKPTCTL"], "--dir", root, *args], capture_output=True, text=True,
                       env=h.env, timeout=120)
    return p.returncode, p.stdout + p.stderr


def reference(h, argv):
    """{step: hash} and the lines of an uninterrupted run without ckpt (chkpnt() absent)."""
    data, _ = h.reference(argv)
    text = data.decode()
    steps = {int(s): x for s, x in STEP_RE.findall(text)}
    check(steps, f"the reference run printed no steps: {text[:200]!r}")
    return steps, text.splitlines()


def run_chain(h, argv, extra, root=None):
    """Runs argv to its end under ckpt-run (no timed checkpoints: only its chkpnt() calls),
    keeping the versions; returns (root, job path, log)."""
    root = root or h.path("ckpt")
    out = h.make_output(f"chain-{len(os.listdir(h.tmp))}.out")
    launcher = h.start("job", argv, out, interval="1h", root=root, extra=["--keep", *extra])
    rc = launcher.wait(300)
    text = launcher.log_text()
    check(rc == 0, f"ckpt-run exited with {rc}; log:\n{text}")
    return root, os.path.join(root, "job"), text, read_bytes(out).decode()


def chain_of(h, root):
    """{version: 'full' or '+N of V'} from ckptctl list."""
    rc, text = ckptctl(h, root, "list", "job")
    check(rc == 0, f"ckptctl list failed: {text}")
    out = {}
    for line in text.splitlines()[1:]:
        m = re.match(r"\s*(\d+)\s.*?\s(full|\+\d+ of \d+(?: broken)?)\s", line)
        if m:
            out[int(m.group(1))] = m.group(2)
    return out


def restore_version(h, root, v, argv, steps, lines):
    """Restores version v from a copy of `root` without the newer versions and checks that the
    memory it finds is the one printed before that checkpoint and that the rest of the run is
    the reference's. Returns the step it came back at."""
    copy = h.path(f"restore-{v}")
    shutil.copytree(root, copy, symlinks=True)
    job = os.path.join(copy, "job")
    for n in os.listdir(job):
        m = re.match(r"ckpt-(\d+)\.img$", n)
        if m and int(m.group(1)) > v:
            os.unlink(os.path.join(job, n))
    out = h.make_output(f"restore-{v}.out")
    launcher = h.start("job", argv, out, interval="1h", root=copy, extra=["--keep"])
    rc = launcher.wait(300)
    text = launcher.log_text()
    check(rc == 0, f"the restore of version {v} exited with {rc}; log:\n{text}")
    check(launcher.restored_version() == v, f"restored {launcher.restored_version()}, not version {v}; log:\n{text}")
    got = read_bytes(out).decode()
    m = RESTORED_AT_RE.search(got)
    check(m, f"version {v}: the restored program did not come back in chkpnt(): {got[:300]!r}")
    step, hsh = int(m.group(1)), m.group(2)
    check(hsh == steps[step], f"version {v}: memory after the restore hashes to {hsh}, before the checkpoint "
          f"(step {step}) it was {steps[step]}")
    after = got[m.end():].strip().splitlines()
    idx = lines.index(f"step {step} {steps[step]}")
    check(after == lines[idx + 1:], f"version {v}: the run after the restore differs from the reference")
    shutil.rmtree(copy)
    return step
