#!/usr/bin/python3
"""Issue 8, defects 2 and 9: where checkpoints go, asked for carelessly.

  * `--retain -1`, `--dir ''`, `--name ''` (and ckptctl `--dir ''`): refused with a usage
    message (exit 64), nothing created, the program not run;
  * HOME unset (and no --dir, CKPT_DIR, XDG_STATE_HOME): never a path under /tmp; with
    XDG_RUNTIME_DIR set the root is $XDG_RUNTIME_DIR/ckpt, without it ckpt-run refuses with
    a message saying how to choose a root (exit 73).
"""
import os
import subprocess

import ckpt_harness
import security_common
from ckpt_harness import check

EXIT_USAGE = 64
EXIT_CANT_CREATE = 73


def run(h, argv, env=None, cwd=None):
    return subprocess.run(argv, capture_output=True, text=True, env=env or h.env, cwd=cwd or h.tmp, timeout=60)


def body(h):
    marker = h.path("program-ran")
    program = ["--", "/bin/sh", "-c", f"touch {marker}"]
    root = h.path("ckpt")
    for opts in (["--dir", root, "--name", "job", "--retain", "-1"], ["--dir", "", "--name", "job"],
                 ["--dir", root, "--name", ""], ["--dir", root, "--name", "job", "--retain=-5"]):
        r = run(h, [h.ckpt_run, *opts, *program])
        check(r.returncode == EXIT_USAGE, f"{opts}: exit {r.returncode}, expected {EXIT_USAGE}; stderr: {r.stderr!r}")
        check(r.stderr.strip(), f"{opts}: no message")
        check(not os.path.exists(marker), f"{opts}: the program ran")
        check(not os.path.exists(root), f"{opts}: the root was created")
        ckpt_harness.log(f"{opts}: {r.stderr.strip()!r}")
    r = run(h, [security_common.ckptctl(h), "--dir", "", "list"])
    check(r.returncode == EXIT_USAGE, f"ckptctl --dir '' list: exit {r.returncode}; {r.stdout!r} {r.stderr!r}")

    # HOME unset.
    name = f"sec-home-unset-{os.getpid()}-{h.rng.randrange(1 << 30)}"
    tmp_root = "/tmp/.local/state/ckpt"
    existed = [p for p in ("/tmp/.local", "/tmp/.local/state", tmp_root) if os.path.exists(p)]
    env = {k: v for k, v in h.env.items() if k not in ("HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "CKPT_DIR")}
    try:
        r = run(h, [h.ckpt_run, "--name", name, "--keep", *program], env=env)
        check(not os.path.lexists(os.path.join(tmp_root, name)),
              f"with HOME unset the job went to {tmp_root}/{name} (exit {r.returncode})")
        check(r.returncode == EXIT_CANT_CREATE, f"HOME unset: exit {r.returncode}, expected {EXIT_CANT_CREATE}; "
              f"stderr: {r.stderr!r}")
        check("HOME" in r.stderr and "--dir" in r.stderr, f"the message does not say how to choose a root: {r.stderr!r}")
        check(not os.path.exists(marker), "HOME unset: the program ran without a place for its checkpoints")
        ckpt_harness.log(f"HOME unset: {r.stderr.strip()!r}")
        runtime = h.path("run")
        os.mkdir(runtime, 0o700)
        r = run(h, [h.ckpt_run, "--name", name, "--keep", *program], env={**env, "XDG_RUNTIME_DIR": runtime})
        check(r.returncode == 0, f"HOME unset, XDG_RUNTIME_DIR set: exit {r.returncode}; {r.stderr!r}")
        check(os.path.isdir(os.path.join(runtime, "ckpt", name)), f"no job directory in {runtime}/ckpt")
        os.unlink(marker)
    finally:
        # The old behaviour left a job in /tmp: remove exactly what this test made there.
        job = os.path.join(tmp_root, name)
        if os.path.isdir(job) and not os.path.islink(job):
            for n in os.listdir(job):
                os.unlink(os.path.join(job, n))
            os.rmdir(job)
        for p in (tmp_root, "/tmp/.local/state", "/tmp/.local"):
            if p not in existed and os.path.isdir(p) and not os.listdir(p):
                os.rmdir(p)


ckpt_harness.main("jobdir_options", body)
