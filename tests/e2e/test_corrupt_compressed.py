#!/usr/bin/python3
"""A damaged compressed block (one byte flipped inside a zstd frame of the newest image) is
found by the restorer before it touches anything: exit 65 (bad image) from ckpt-restore run
on the image alone, and the launcher falls back to the previous version."""
import re
import subprocess

import ckpt_harness
import compressed_image
from ckpt_harness import check


def body(h):
    argv = [h.program("counter"), "40", "100000"]
    h.env["CKPT_COMPRESS"] = "1"
    reference, _ = h.reference(argv)
    out = h.make_output()
    first = h.run_and_kill_after_checkpoints("job", argv, out, min_versions=2)
    versions = h.versions(first.job_path)
    newest, previous = versions[-1], versions[-2]
    img = h.image_path(first.job_path, newest)
    check(compressed_image.is_compressed(img), f"{img}: not marked compressed")
    zstd = [b for b in compressed_image.blocks(img) if b[3] == 1]
    check(zstd, f"{img}: no zstd block to damage")
    off, size = zstd[len(zstd) // 2][0], zstd[len(zstd) // 2][1]
    where = off + size // 2
    with open(img, "r+b") as f:
        f.seek(where)
        b = f.read(1)
        f.seek(where)
        f.write(bytes([b[0] ^ 0x5A]))
    ckpt_harness.log(f"flipped the byte at {where} inside a zstd block of version {newest}")
    restorer = h.ckpt_run.replace("/bin/ckpt-run", "/libexec/ckpt-restore")
    r = subprocess.run([restorer, img], capture_output=True, text=True, timeout=60)
    check(r.returncode == 65, f"ckpt-restore exited {r.returncode}, expected 65 (bad image): {r.stderr}")
    check(re.search(r"page data of region .* (does not match its checksum|cannot be decompressed)", r.stderr),
          f"no page-data message: {r.stderr!r}")
    second = h.start("job", argv, out)
    rc = second.wait()
    log = second.log_text()
    check(rc == 0, f"rerun exited with {rc}; log:\n{log}")
    check(second.restored_version() == previous,
          f"restored version {second.restored_version()}, expected {previous}; log:\n{log}")
    check(ckpt_harness.read_bytes(out) == reference, "output differs")
    ckpt_harness.log(f"ckpt-restore refused it: {r.stderr.strip()!r}; the rerun restored version {previous}")


ckpt_harness.main("corrupt_compressed", body)
