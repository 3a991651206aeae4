#!/usr/bin/python3
"""python3 building a large dict (a typical heap) with compressed checkpoints (CKPT_COMPRESS=1,
the environment twin of --compress), killed 3 times and resumed: the output is identical, and
each image it was resumed from was compressed to at most 40 % of its raw page data."""
import os

import ckpt_harness
import compressed_image
from ckpt_harness import check

CODE = r"""
import hashlib, sys
n, per_line = int(sys.argv[1]), int(sys.argv[2])
d = {}
h = hashlib.sha256()
for i in range(1, n + 1):
    d[i] = "value-%d-%s" % (i, "x" * (i % 17))
    if i % per_line == 0:
        h.update(str(sum(len(v) for v in list(d.values())[-per_line:])).encode())
        print(i, len(d), h.hexdigest(), flush=True)
print("final", len(d), h.hexdigest())
"""


def body(h):
    argv = ["/usr/bin/python3", "-I", "-c", CODE, "3000000", "20000"]
    h.env["CKPT_COMPRESS"] = "1"
    seen = []
    kill = h.kill_program

    def inspect_then_kill(launcher):
        newest = h.versions(launcher.job_path)[-1]
        img = h.image_path(launcher.job_path, newest)
        check(compressed_image.is_compressed(img), f"{img}: not marked compressed")
        bl = compressed_image.blocks(img)
        raw = sum(b[2] for b in bl)
        stored = sum(b[1] for b in bl)
        check(any(b[3] == 1 for b in bl), f"{img}: no zstd block")
        check(raw > 0 and stored <= 0.40 * raw, f"{img}: {stored} stored bytes of {raw} raw (> 40 %)")
        seen.append((newest, stored, raw, os.path.getsize(img)))
        return kill(launcher)

    h.kill_program = inspect_then_kill
    h.kill_and_resume(argv)
    for v, stored, raw, size in seen:
        ckpt_harness.log(f"version {v}: page data {stored} of {raw} bytes ({100 * stored / raw:.1f} %), image {size} bytes")


ckpt_harness.main("compressed_python", body)
