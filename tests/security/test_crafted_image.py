#!/usr/bin/python3
"""Crafted images (issue 8, defect 3). A real image of a program that has a file mapped
MAP_SHARED read-only and open O_RDONLY is edited and its checksums recomputed:
  (1) by another user, who makes the mapping writable and points it, with the victim's full
      identity (device, inode, size, mtime), at a root-owned 0644 file: refused as untrusted;
  (2) by root: the open descriptor made O_RDWR and pointed at the victim (recorded identity
      left as it was): refused, the file is not the one the program had open;
  (3) by root: the mapping made writable and pointed at the victim: refused likewise.
In every case the victim's bytes and mode stay as they were, and the program does not run."""
import os
import shutil
import stat

import ckpt_harness
from ckpt_harness import check
import image_edit
import security_common
import undo_common


def body(h):
    if os.geteuid() != 0:
        security_common.skip("needs root (a root-owned victim file, an image planted by another user)")
    uid, gid = security_common.other_user()
    work = undo_common.make_work(h, "work")
    victim = os.path.join(work, "victim")  # as long a path as .../mapped
    with open(victim, "wb") as f:
        f.write(b"root's own bytes\n")
    os.chmod(victim, 0o644)
    vst = os.stat(victim)
    mapped = os.path.join(work, "mapped")
    first, version = undo_common.run_and_kill_with_changes(h, "job", work)
    genuine = h.image_path(first.job_path, version)
    saved = h.path("genuine.img")
    shutil.copyfile(genuine, saved)

    def craft(edit_region, edit_fd, victim_identity):
        shutil.copyfile(saved, genuine)
        os.chmod(genuine, 0o600)
        img = image_edit.Image(genuine)
        hits = 0
        for off, r in img.regions():
            if edit_region and r[4] == image_edit.KIND_FILE and img.string(r[5]) == mapped:
                r[2] |= image_edit.PROT_WRITE
                r[3] |= image_edit.REGION_SHARED
                img.set_string(r[5], victim)
                if victim_identity:
                    r[7], r[8], r[9], r[10] = vst.st_dev, vst.st_ino, vst.st_size, vst.st_mtime_ns
                img.put_region(off, r)
                hits += 1
        for off, f in img.fds():
            if edit_fd and f[image_edit.FD_PATH] != 0xffffffff and img.string(f[image_edit.FD_PATH]) == mapped:
                f[3] = (f[3] & ~3) | os.O_RDWR  # open_flags
                img.set_string(f[image_edit.FD_PATH], victim)
                img.put_fd(off, f)
                hits += 1
        check(hits > 0, "the image has no record of the mapped file to edit")
        img.save()

    cases = (
        ("another user's image, writable mapping of the victim with its identity", True, False, True, (uid, gid), "untrusted", True),
        # Reopened descriptors are checked by the restorer, after the files were rolled back to
        # the version (a file replaced since the checkpoint is back only then): the work files
        # are then as at that version, which is consistent.
        ("root's image, descriptor made O_RDWR on the victim", False, True, False, (0, 0), "different file", False),
        ("root's image, writable mapping of the victim", True, False, False, (0, 0), "changed since the checkpoint", True),
    )
    only = os.environ.get("CKPT_TEST_CASES", "").split(",")  # case numbers, to run some alone
    for i, (what, edit_region, edit_fd, identity, owner, expected, untouched) in enumerate(cases, 1):
        if only != [""] and str(i) not in only:
            continue
        craft(edit_region, edit_fd, identity)
        os.chown(genuine, *owner)
        before = undo_common.snapshot(work)
        second = h.start("job", undo_common.argv_for(h, work), h.make_output("out2"), interval="1s")
        rc = second.wait()
        log = second.log_text()
        vnow = os.stat(victim)
        check(open(victim, "rb").read() == b"root's own bytes\n" and stat.S_IMODE(vnow.st_mode) == 0o644
              and vnow.st_uid == 0, f"{what}: the victim file was changed")
        check(rc != 0 and second.restored_version() is None and not second.started_fresh(),
              f"{what}: the crafted image was restored (exit {rc}); log:\n{log}")
        check(expected in log and victim in log if expected != "untrusted" else expected in log and genuine in log,
              f"{what}: the refusal does not say why ({expected!r}); log:\n{log}")
        if untouched:
            check(undo_common.snapshot(work) == before, f"{what}: files in the work directory changed")
        ckpt_harness.log(f"{what}: refused (exit {rc}); victim untouched")
    shutil.copyfile(saved, genuine)


ckpt_harness.main("crafted_image", body)
