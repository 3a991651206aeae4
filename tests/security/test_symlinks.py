#!/usr/bin/python3
"""Issue 8, defects 1 and 2: a symbolic link is never followed into someone else's files.

  * a shared root (a sticky, world-writable directory like /tmp, made by the test) in which
    a link named like the job points at a victim directory: ckpt-run refuses it (exit 87),
    the victim keeps its files and its mode (it used to be chmod-ed 0700 and emptied);
  * a root reached through a link in that shared directory owned by another user (ckpttest,
    when the test runs as root): refused, nothing created behind the link;
  * links named .probe, lock, .status.tmp, status, .ckpt-00000N.img.tmp, pct-00000N.log,
    undo-00000N inside a job directory pointing at victim files, planted before a run and
    again while the program runs (before the checkpoints that would write those names): the
    run checkpoints, and the victims' bytes and modes are unchanged after it and after
    `ckptctl rm`.
"""
import os
import subprocess

import ckpt_harness
import security_common
from ckpt_harness import check

EXIT_UNSAFE_DIR = 87


def make_victims(path):
    os.makedirs(path)
    os.chmod(path, 0o755)
    for i, mode in enumerate((0o644, 0o600, 0o640, 0o755)):
        p = os.path.join(path, f"victim-{i}")
        with open(p, "wb") as f:
            f.write(f"victim {i} must not change\n".encode() * 10)
        os.chmod(p, mode)
    return security_common.tree_snapshot(path), os.stat(path).st_mode


def ckptctl(h, *args):
    return subprocess.run([security_common.ckptctl(h), *args], capture_output=True, text=True, env=h.env, timeout=60)


def body(h):
    victims = h.path("victims")
    snap, dir_mode = make_victims(victims)

    def unchanged(what):
        check(security_common.tree_snapshot(victims) == snap, f"{what}: a victim file changed")
        check(os.stat(victims).st_mode == dir_mode, f"{what}: the victim directory's mode changed")

    # 1. A link planted in a shared root, named like the job.
    shared = h.path("shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    link = os.path.join(shared, "photos")
    os.symlink(victims, link)
    other = None
    if os.geteuid() == 0:
        try:
            other = security_common.other_user()
        except SystemExit:
            other = None
    if other:
        os.lchown(link, *other)
    rc, err = h.run_to_exit("photos", ["/bin/true"], root=shared, verbose=False)
    check(rc == EXIT_UNSAFE_DIR, f"job directory planted as a link: exit {rc}, expected {EXIT_UNSAFE_DIR}; stderr:\n{err}")
    check(link in err and "symbolic link" in err, f"the message does not name the link {link}: {err!r}")
    check(os.path.islink(link) and os.readlink(link) == victims, "the planted link itself was changed")
    unchanged("ckpt-run through a planted job link")
    r = ckptctl(h, "--dir", shared, "rm", "photos")
    check(r.returncode == EXIT_UNSAFE_DIR, f"ckptctl rm of a planted link: exit {r.returncode}; {r.stderr!r}")
    unchanged("ckptctl rm through a planted job link")
    ckpt_harness.log(f"planted job link refused: {err.strip()!r}")

    # 2. A root reached through someone else's link in the shared directory.
    if other:
        rlink = os.path.join(shared, "state")
        os.symlink(victims, rlink)
        os.lchown(rlink, *other)
        rc, err = h.run_to_exit("job", ["/bin/true"], root=os.path.join(rlink, "ckpt"), verbose=False)
        check(rc == EXIT_UNSAFE_DIR, f"root through another user's link: exit {rc}; stderr:\n{err}")
        check(rlink in err and security_common.OTHER_USER in err, f"the message names neither link nor owner: {err!r}")
        unchanged("ckpt-run with a root behind another user's link")
        ckpt_harness.log(f"root behind {security_common.OTHER_USER}'s link refused: {err.strip()!r}")
    else:
        ckpt_harness.log("no second user: the root-behind-a-foreign-link case is not run")

    # 3. Links inside a job directory.
    root = h.path("ckpt")
    out = h.make_output()
    first = h.start("job", ["/bin/true"], out, root=root, extra=["--keep"])
    check(first.wait() == 0, f"preparing the job directory: {first.log_text()}")
    job = first.job_path
    targets = sorted(os.listdir(victims))

    def plant(names):
        for i, n in enumerate(names):
            p = os.path.join(job, n)
            if os.path.lexists(p):
                if os.path.islink(p) or not os.path.isdir(p):
                    os.unlink(p)
                else:
                    continue
            os.symlink(os.path.join(victims, targets[i % len(targets)]), p)

    plant([".probe", "lock", ".status.tmp", "status", ".ckpt-000001.img.tmp", "pct-000001.log", "undo-000001",
           "pct-000000.log", "pct-000001.progress"])
    launcher = h.start("job", [h.program("counter"), "1000", "20000"], out, root=root, interval="1h")
    h.program_pid(launcher)
    # While it runs: the names its next checkpoints and epochs would write.
    plant([".ckpt-000001.img.tmp", ".ckpt-000002.img.tmp", "pct-000001.log", "pct-000002.log", "undo-000001",
           "undo-000002", ".status.tmp"])
    for _ in range(2):
        r = ckptctl(h, "--dir", root, "checkpoint", "job")
        check(r.returncode == 0, lambda: f"ckptctl checkpoint: exit {r.returncode}: {r.stderr!r}; "
              f"log:\n{launcher.log_text()}")
    versions = h.versions(job)
    check(len(versions) >= 2, f"expected two checkpoints, have {versions}")
    unchanged("checkpoints with links planted in the job directory")
    h.kill_program(launcher)
    unchanged("the killed run")
    plant(["status", ".status.tmp", "lock"])
    r = ckptctl(h, "--dir", root, "rm", "job")
    check(r.returncode == 0, f"ckptctl rm: exit {r.returncode}: {r.stderr!r}")
    check(not os.path.lexists(job), f"job directory left after rm: {os.listdir(job) if os.path.isdir(job) else job}")
    unchanged("ckptctl rm of a job directory holding planted links")
    ckpt_harness.log(f"versions {versions} written with links planted; victims unchanged after the run and rm")


ckpt_harness.main("symlinks", body)
