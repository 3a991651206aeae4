#!/usr/bin/python3
"""--retain 3 with chains of incremental images (--full-every 4): pruning removes old versions,
but never one that a kept version needs; every version left verifies with its whole chain and
restores byte-exact."""
import ckpt_harness
from ckpt_harness import check, log
import incr_common as ic

STEPS = 14


def body(h):
    argv = [h.program("incr_pages"), "8", str(STEPS), str(h.seed % 1000)]
    steps, lines = ic.reference(h, argv)
    root, job, text, _ = ic.run_chain(h, argv, ["--full-every", "4", "--retain", "3"])
    left = h.versions(job)
    chain = ic.chain_of(h, root)
    log(f"versions left: {left}; chains: {chain}")
    check(len(left) < STEPS, f"nothing was pruned: {left}")
    check(left[-3:] == list(range(STEPS - 2, STEPS + 1)), f"the newest 3 are not all kept: {left}")
    check(any(c != "full" for c in chain.values()), f"no incremental image among {chain}")
    for v, c in chain.items():
        check("broken" not in c, f"version {v} lost a link of its chain: {chain}")
    rc, out = ic.ckptctl(h, root, "verify", "job")
    check(rc == 0, f"ckptctl verify job failed after pruning: {out}")
    for v in left:
        ic.restore_version(h, root, v, argv, steps, lines)
    log(f"pruned to {left}; every one restorable")


ckpt_harness.main("incr_prune", body)
