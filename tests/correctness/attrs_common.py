"""What the process-attribute tests share (issue 9, item 9; tests/programs/attrs_probe.c).

  * start_probe(h, mode, ...): runs `attrs_probe MODE WORK MARKER` under ckpt-run until it has
    taken its checkpoint (chkpnt) and created the marker, then SIGKILLs it;
  * restored(h, mode, ...): start_probe, then the same command again, which restores it: the
    probe checks its attribute from inside and prints OK (exit 0) or FAIL (exit 1). Returns
    (probe output, recovery log).
"""
import json
import os
import subprocess

import ckpt_harness
from ckpt_harness import check, log


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode(errors="replace")


class Probe:
    """The probe in MODE as job JOB; `user` (uid, gid): run as that user, with its own work
    directory and checkpoint root (h.root_of(job))."""

    def __init__(self, h, mode, job=None, user=None):
        self.h = h
        self.mode = mode
        self.job = job or mode
        self.user = user
        self.work = h.path(f"{self.job}.work")
        os.makedirs(self.work, exist_ok=True)
        self.marker = os.path.join(self.work, "ready")
        self.argv = [h.program("attrs_probe"), mode, self.work, self.marker]
        self.runs = 0
        self.root = h.path("ckpt") if not user else h.path(f"ckpt-{self.job}")
        self.kw = {}
        if user:
            import security_common
            os.chmod(h.tmp, 0o755)
            os.makedirs(self.root, mode=0o700, exist_ok=True)
            for d in (self.work, self.root):
                os.chown(d, *user)
            self.kw = {"root": self.root, "preexec_fn": security_common.as_user(*user), "cwd": self.work}

    def job_path(self):
        return os.path.join(self.root, self.job)

    def out(self):
        return self.h.path(f"{self.job}.{self.runs}.out")

    def start(self, extra=(), **kw):
        self.runs += 1
        return self.h.start(self.job, self.argv, self.out(), interval="1h", extra=extra, **{**self.kw, **kw})

    def checkpoint_and_kill(self, extra=(), **kw):
        launcher = self.start(extra, **kw)

        def ready():
            if launcher.poll() is not None:
                raise ckpt_harness.TestFailure(
                    f"{self.mode}: ckpt-run exited with {launcher.rc} before the probe's checkpoint; log:\n"
                    f"{launcher.log_text()}\nprobe output:\n{read_text(self.out())}")
            return os.path.exists(self.marker)
        self.h.poll(ready, f"{self.mode}: the probe to take its checkpoint")
        rc = self.h.kill_program(launcher)
        check(rc == ckpt_harness.EXIT_KILLED, f"{self.mode}: ckpt-run exited with {rc} after the kill")
        return launcher

    def rerun(self, extra=(), **kw):
        """The same command again: (exit status, probe output, log)."""
        launcher = self.start(extra, **kw)
        rc = launcher.wait()
        return rc, read_text(self.out()), launcher.log_text()


def inspect(h, job, json_output=True):
    """`ckptctl inspect [--json]` of the job's newest image: the parsed object, or the text."""
    ckptctl = os.path.join(os.environ.get("CKPT_BIN_DIR", os.path.dirname(h.ckpt_run)), "ckptctl")
    versions = h.versions(h.path("ckpt", job))
    check(versions, f"{job}: no image to inspect")
    image = h.image_path(h.path("ckpt", job), versions[-1])
    r = subprocess.run([ckptctl, "inspect", *(["--json"] if json_output else []), image],
                       capture_output=True, text=True, env=h.env)
    check(r.returncode == 0, f"ckptctl inspect {image}: exit {r.returncode}: {r.stderr}")
    return json.loads(r.stdout) if json_output else r.stdout


def restored(h, mode, extra=(), shown=None, **kw):
    """The probe's attribute survives SIGKILL and a restore, as the probe itself checks.
    shown(json, text): checks what `ckptctl inspect` says of the image, before the restore."""
    p = Probe(h, mode)
    p.checkpoint_and_kill(extra, **kw)
    if shown:
        shown(inspect(h, p.job), inspect(h, p.job, json_output=False))
    rc, out, err = p.rerun(extra, **kw)
    check("restored from checkpoint version" in err, f"{mode}: the rerun did not restore the probe; log:\n{err}")
    check(rc == 0 and out.startswith("OK "), f"{mode}: exit {rc}, probe said: {out.strip()!r}; log:\n{err}")
    log(out.strip())
    return out, err


def one(mode, shown=None):
    """A test that is exactly restored(h, mode, shown=shown)."""
    ckpt_harness.main(f"attr_{mode}", lambda h: restored(h, mode, shown=shown))
