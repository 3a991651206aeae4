#!/usr/bin/python3
"""python3 building a large dict (a typical heap) with compressed checkpoints (CKPT_COMPRESS=1,
the environment twin of --compress), killed 3 times and resumed: the output is identical, and
each image it was resumed from was compressed to at most 40 % of its raw page data."""
import json
import os
import subprocess

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
        # ckptctl inspect shows the same numbers in the checkpoint's statistics.
        ckptctl = os.path.join(os.path.dirname(h.ckpt_run), "ckptctl")
        r = subprocess.run([ckptctl, "inspect", img, "--json"], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"ckptctl inspect failed: {r.stderr}")
        d = json.loads(r.stdout)
        st, pd = d.get("checkpoint_stats"), d.get("page_data")
        check(st and pd, f"no checkpoint_stats/page_data in inspect --json: {sorted(d)}")
        check(st["raw_bytes"] == raw and st["stored_bytes"] == stored,
              f"inspect: raw {st['raw_bytes']} stored {st['stored_bytes']}, the blocks say {raw} {stored}")
        check(st["compress_ns"] > 0 and pd["compressed"] and pd["zstd_blocks"] > 0, f"inspect: {st} {pd}")
        t = subprocess.run([ckptctl, "inspect", img], capture_output=True, text=True, timeout=60).stdout
        check("Page data" in t and "compress" in t, f"inspect text has no compression lines:\n{t}")
        seen.append((newest, stored, raw, os.path.getsize(img)))
        return kill(launcher)

    h.kill_program = inspect_then_kill
    h.kill_and_resume(argv)
    for v, stored, raw, size in seen:
        ckpt_harness.log(f"version {v}: page data {stored} of {raw} bytes ({100 * stored / raw:.1f} %), image {size} bytes")


ckpt_harness.main("compressed_python", body)
