#!/usr/bin/python3
"""Issue 8, defect 1: ckpt deletes only what it can prove is its own.

  * `ckpt-run --dir D --name photos -- /bin/true`, D/photos an ordinary directory full of
    files: refused (exit 86, the path named), the program not run, nothing touched;
  * `ckptctl --dir D rm docs`, D/docs an ordinary directory: refused the same way;
  * a job directory of ckpt's into which someone put a file of their own: after exit 0
    everything ckpt wrote is gone, the foreign file and the directory stay, with a warning
    naming the file.
"""
import os

import ckpt_harness
import security_common
from ckpt_harness import check

EXIT_NOT_JOB_DIR = 86


def plant_tree(path):
    os.makedirs(os.path.join(path, "2024", "summer"))
    for rel, data in (("cat.jpg", b"\xff\xd8meow"), ("notes.txt", b"remember\n"),
                      ("2024/summer/beach.jpg", b"\xff\xd8sand"), ("lock", b"not ckpt's\n"),
                      ("status", b"a file of the user's that happens to have this name")):
        with open(os.path.join(path, rel), "wb") as f:
            f.write(data)
    os.chmod(os.path.join(path, "notes.txt"), 0o640)
    os.chmod(path, 0o755)


def body(h):
    root = h.path("D")
    os.makedirs(root, mode=0o700)
    photos = os.path.join(root, "photos")
    plant_tree(photos)
    before = security_common.tree_snapshot(photos)
    mode = os.stat(photos).st_mode

    # /bin/true: its exit 0 used to delete the whole tree.
    rc, err = h.run_to_exit("photos", ["/bin/true"], root=root, verbose=False)
    check(rc == EXIT_NOT_JOB_DIR, f"ckpt-run -- /bin/true: exit {rc}; stderr:\n{err}")
    check(security_common.tree_snapshot(photos) == before, "files in the ordinary directory changed after /bin/true")

    # Any program: refused before it runs.
    marker = h.path("program-ran")
    rc, err = h.run_to_exit("photos", ["/bin/sh", "-c", f"touch {marker}"], root=root, verbose=False)
    check(rc == EXIT_NOT_JOB_DIR, f"ckpt-run on an ordinary directory: exit {rc}, expected {EXIT_NOT_JOB_DIR}; "
          f"stderr:\n{err}")
    check(photos in err and "not a ckpt job directory" in err, f"the message does not name {photos}: {err!r}")
    check(not os.path.exists(marker), "the program ran although its job directory was refused")
    check(security_common.tree_snapshot(photos) == before, "files in the ordinary directory changed")
    check(os.stat(photos).st_mode == mode, "the ordinary directory's mode changed")
    ckpt_harness.log(f"ckpt-run refused {photos}: {err.strip()!r}")

    # ckptctl rm: refused.
    docs = os.path.join(root, "docs")
    plant_tree(docs)
    docs_before = security_common.tree_snapshot(docs)
    r = h_run(h, [security_common.ckptctl(h), "--dir", root, "rm", "docs"])
    check(r.returncode == EXIT_NOT_JOB_DIR, f"ckptctl rm docs: exit {r.returncode}, expected {EXIT_NOT_JOB_DIR}; "
          f"output: {r.stdout!r} {r.stderr!r}")
    check(docs in r.stderr, f"ckptctl's message does not name {docs}: {r.stderr!r}")
    check(security_common.tree_snapshot(docs) == docs_before, "ckptctl rm changed files in an ordinary directory")
    ckpt_harness.log(f"ckptctl rm refused: {r.stderr.strip()!r}")

    # A real job directory with a file of someone else's in it: only ckpt's files go.
    out = h.make_output()
    launcher = h.start("job", [h.program("counter"), "20", "50000"], out, root=root, interval="100ms")
    h.wait_for_version_above(launcher, 0)
    foreign = os.path.join(launcher.job_path, "my-notes.txt")
    with open(foreign, "wb") as f:
        f.write(b"mine\n")
    rc = launcher.wait()
    log = launcher.log_text()
    check(rc == 0, f"counter: exit {rc}; log:\n{log}")
    check(os.path.isdir(launcher.job_path), "the job directory holding a foreign file was removed")
    left = sorted(os.listdir(launcher.job_path))
    check(left == [".ckpt-job", "my-notes.txt"], f"after exit 0 the job directory holds {left}")
    with open(foreign, "rb") as f:
        check(f.read() == b"mine\n", "the foreign file in the job directory changed")
    check("my-notes.txt" in log and "left in place" in log, f"no warning names the file left in place:\n{log}")
    # Once it is gone, ckptctl rm finishes the job.
    os.unlink(foreign)
    r = h_run(h, [security_common.ckptctl(h), "--dir", root, "rm", "job"])
    check(r.returncode == 0 and not os.path.exists(launcher.job_path), f"ckptctl rm job: {r.returncode} {r.stderr!r}")


def h_run(h, argv):
    import subprocess
    return subprocess.run(argv, capture_output=True, text=True, env=h.env, timeout=60)


ckpt_harness.main("foreign_dir", body)
