#!/usr/bin/python3
"""Defect 9 of issue 8 (restorer crash): a restorer that crashes (killed by a signal, or exit
80: failed after its own process was torn down) must not leave the job stuck: the recovery
tries the previous version, as for a corrupt image, with a log line, and the job resumes with
exactly the output of an uninterrupted run. A crash of every version ends in exit 80 with
every checkpoint kept.

The crash is real, with no test hook in ckpt: the test runs a copy of ckpt-run whose
installation tree (bin/, lib/, libexec/ as ckpt-run looks for them) has a ckpt-restore that
kills itself with SIGKILL (or exits 80) when asked to restore the newest version, and is the
real restorer otherwise."""
import os
import shutil
import stat

import ckpt_harness
from ckpt_harness import check, log


def crashing_install(h, tag, crash_on, how):
    real_bin = os.path.dirname(h.ckpt_run)
    real_restorer = os.path.realpath(os.path.join(real_bin, "..", "libexec", "ckpt-restore"))
    real_lib = os.path.realpath(os.path.join(real_bin, "..", "lib", "libckpt.so"))
    root = h.path(f"install-{tag}")
    for d in ("bin", "lib", "libexec"):
        os.makedirs(os.path.join(root, d))
    shutil.copy(h.ckpt_run, os.path.join(root, "bin", "ckpt-run"))
    os.symlink(real_lib, os.path.join(root, "lib", "libckpt.so"))
    script = os.path.join(root, "libexec", "ckpt-restore")
    cases = " | ".join(f"*/ckpt-{v:06d}.img" for v in crash_on)
    with open(script, "w") as f:
        f.write(f"""#!/bin/sh
for a; do last="$a"; done
case "$last" in {cases}) {how} ;; esac
exec {real_restorer} "$@"
""")
    os.chmod(script, stat.S_IRWXU)
    return os.path.join(root, "bin", "ckpt-run")


def body(h):
    argv = [h.program("counter"), "30", "50000"]
    reference, _ = h.reference(argv)
    real = h.ckpt_run
    for tag, how in (("killed", "kill -KILL $$"), ("exit80", "exit 80")):
        out = h.make_output(f"{tag}.out")
        launcher = h.run_and_kill_after_checkpoints(tag, argv, out, min_versions=2)
        versions = h.versions(launcher.job_path)
        newest = versions[-1]
        h.ckpt_run = crashing_install(h, tag, [newest], how)
        try:
            rc, err = h.run_to_exit(tag, argv, out)
        finally:
            h.ckpt_run = real
        check(rc == 0, f"{tag}: the recovery exited with {rc} instead of trying the previous version; log:\n{err}")
        check(f"the restorer of checkpoint version {newest}" in err and "trying the previous one" in err,
              f"{tag}: no log line about the crashed restorer; log:\n{err}")
        restored = ckpt_harness.RESTORED_RE.search(err)
        check(restored and int(restored.group(1)) < newest, f"{tag}: not restored from an older version; log:\n{err}")
        check(ckpt_harness.read_bytes(out) == reference, f"{tag}: the output differs from an uninterrupted run")
        log(f"{tag}: restorer of version {newest} crashed; resumed from version {restored.group(1)}")

    # Every version crashes: exit 80, nothing deleted.
    out = h.make_output("all.out")
    launcher = h.run_and_kill_after_checkpoints("all", argv, out, min_versions=2)
    images = h.images_snapshot(launcher.job_path)
    h.ckpt_run = crashing_install(h, "all", sorted(images), "kill -KILL $$")
    try:
        rc, err = h.run_to_exit("all", argv, out)
    finally:
        h.ckpt_run = real
    check(rc == 80, f"every restorer crashed: exit {rc}, expected 80; log:\n{err}")
    check(h.images_snapshot(launcher.job_path) == images, "checkpoints were deleted or changed")
    log("every version crashed: exit 80, checkpoints kept")


ckpt_harness.main("restorer_crash", body)
