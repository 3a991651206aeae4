#!/usr/bin/python3
"""A chain of 20 checkpoints of a program that changes random pages (and maps a region again at
the same address, moves one with mremap, grows the heap, drops pages with MADV_DONTNEED): every
image after the first is incremental, much smaller than a full one, and every link restores
byte-exact (the memory hash after the restore is the one before that checkpoint, and the run
goes on exactly as the uninterrupted one)."""
import os

import ckpt_harness
from ckpt_harness import check, log
import incr_common as ic

STEPS = 20


def body(h):
    argv = [h.program("incr_pages"), "32", str(STEPS), str(h.seed % 1000)]
    steps, lines = ic.reference(h, argv)
    root, job, text, _ = ic.run_chain(h, argv, ["--full-every", "100"])
    versions = h.versions(job)
    check(versions == list(range(1, STEPS + 1)), f"versions {versions}; log:\n{text}")
    chain = ic.chain_of(h, root)
    check(chain.get(1) == "full", f"version 1 is {chain.get(1)}")
    for v in range(2, STEPS + 1):
        check(chain.get(v) == f"+{v - 1} of {v - 1}", f"version {v} is {chain.get(v)!r}, expected an increment "
              f"over {v - 1}; list: {chain}")
    full = os.path.getsize(h.image_path(job, 1))
    biggest = max(os.path.getsize(h.image_path(job, v)) for v in range(2, STEPS + 1))
    check(biggest * 5 < full, f"an increment of {biggest} bytes is not much smaller than the full image ({full})")
    rc, out = ic.ckptctl(h, root, "verify", "job")
    check(rc == 0, f"ckptctl verify job failed: {out}")
    for v in versions:
        step = ic.restore_version(h, root, v, argv, steps, lines)
        check(step == v - 1, f"version {v} came back at step {step}")
    log(f"{STEPS} versions (1 full of {full} B, increments at most {biggest} B); every one restored byte-exact")


ckpt_harness.main("incr_chain", body)
