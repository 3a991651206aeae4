#!/usr/bin/python3
"""Issue 9, item 11: an image records the world it was taken in, and a restore into another
one is refused before anything is torn down. The image's recorded kernel release, then its
XCR0 (XSAVE features), is edited (checksums recomputed, as a move to another machine would
present it): ckpt-run exits 89 naming the difference, ckpt-restore --verify-only does the same,
and the image is neither changed nor deleted. With the genuine record back, it restores."""
import os
import shutil
import subprocess

import ckpt_harness
import image_edit
from ckpt_harness import check, log
from attrs_common import Probe

EXIT_INCOMPATIBLE = 89


def body(h):
    p = Probe(h, "exe")
    p.checkpoint_and_kill()
    job = h.path("ckpt", p.job)
    versions = h.versions(job)
    check(versions, "no checkpoint was written")
    image = h.image_path(job, versions[-1])
    genuine = h.path("genuine.img")
    shutil.copy2(image, genuine)
    restorer = os.path.join(os.environ.get("CKPT_BIN_DIR", os.path.dirname(h.ckpt_run)), "..", "libexec", "ckpt-restore")

    def refused(edit, words):
        img = image_edit.Image(genuine)
        edit(img)
        img.save(image)
        before = ckpt_harness.sha256_file(image)
        rc, out, err = p.rerun()
        check(rc == EXIT_INCOMPATIBLE, f"exit {rc}, expected {EXIT_INCOMPATIBLE}; probe said {out!r}; log:\n{err}")
        lines = [l for l in err.splitlines() if words in l]
        check(lines, f"the log does not name the difference ({words!r}):\n{err}")
        check(h.versions(job) == versions and ckpt_harness.sha256_file(image) == before,
              "the image was changed or deleted")
        r = subprocess.run([restorer, "--verify-only", image], capture_output=True, text=True, env=h.env)
        check(r.returncode == EXIT_INCOMPATIBLE and words in r.stderr,
              f"ckpt-restore --verify-only: exit {r.returncode}, {r.stderr!r}")
        log(f"refused: {lines[0]!r}")

    refused(lambda img: img.set_kernel_release("0.0.1-another-machine"), "kernel release 0.0.1-another-machine")
    refused(lambda img: img.set_xcr0(img.xcr0() ^ (1 << 9)), "XCR0")
    shutil.copy2(genuine, image)
    rc, out, err = p.rerun()
    check(rc == 0 and out.startswith("OK "), f"the genuine image: exit {rc}, probe said {out!r}; log:\n{err}")
    log("the genuine image restores")


ckpt_harness.main("world_refused", body)
