#!/usr/bin/python3
"""Defect 7 of issue 8 (checkpoint storms): with --interval 1ms, shorter than any checkpoint
takes, the program used to starve (0 ticks in 4 s): requests piled up back to back. Now
requests are coalesced, the interval runs from the end of the previous checkpoint, and
--max-overhead (default 10 %) bounds the share of time the program is stopped. The test runs a
ticking program and checks that it makes progress and finishes, that the share of time stopped
in checkpoints (sum of the pauses ckpt-run logs, over the run's duration) stays near the bound,
and that the delay was logged; then that a resume after a kill still gives the exact output.
Timing is not asserted tightly: the bound has generous slack for a loaded machine."""
import re
import time

import ckpt_harness
from ckpt_harness import check, log

PAUSE_RE = re.compile(r"checkpoint version \d+ committed: .*, program paused ([0-9.]+) ms")


def body(h):
    argv = [h.program("counter"), "100", "20000"]
    reference, plain_secs = h.reference(argv)
    out = h.make_output()
    t0 = time.monotonic()
    launcher = h.start("storm", argv, out, interval="1ms")
    rc = launcher.wait(timeout=max(30, 10 * plain_secs))
    elapsed = time.monotonic() - t0
    text = launcher.log_text()
    check(rc == 0, f"ckpt-run exited with {rc}; log:\n{text[-3000:]}")
    check(ckpt_harness.read_bytes(out) == reference, "the output differs from the reference")
    pauses = [float(m.group(1)) / 1000 for m in PAUSE_RE.finditer(text)]
    check(len(pauses) >= 3, f"only {len(pauses)} checkpoints in {elapsed:.1f} s at --interval 1ms")
    share = sum(pauses) / elapsed
    log(f"{len(pauses)} checkpoints in {elapsed:.2f} s (plain run {plain_secs:.2f} s); stopped "
        f"{sum(pauses):.3f} s = {100 * share:.1f} % of the time")
    check(share <= 0.25, f"the program was stopped {100 * share:.1f} % of the time (bound 10 %)")
    check("--max-overhead 10% bounds" in text, "the delay caused by --max-overhead was not logged")

    # --max-overhead 0 disables the bound, but requests are still coalesced: progress happens.
    out0 = h.make_output("nobound.out")
    launcher = h.start("nobound", [h.program("counter"), "20", "20000"], out0, interval="1ms",
                       extra=("--max-overhead", "0"))
    rc = launcher.wait(timeout=60)
    check(rc == 0, f"--max-overhead 0: exit {rc}; log:\n{launcher.log_text()[-2000:]}")
    check(ckpt_harness.read_bytes(out0).endswith(b"done 210 pid-independent\n"), "--max-overhead 0: no progress")

    # Kill and resume under the storm setting: exact output.
    out2 = h.make_output("resume.out")
    h.run_and_kill_after_checkpoints("resume", argv, out2, min_versions=3, interval="1ms")
    rc, err = h.run_to_exit("resume", argv, out2, interval="1ms", timeout=max(30, 10 * plain_secs))
    check(rc == 0 and "restored from checkpoint version" in err, f"resume: exit {rc}; log:\n{err[-2000:]}")
    check(ckpt_harness.read_bytes(out2) == reference, "the resumed output differs from the reference")

    for bad in ("-1", "101", "ten"):
        rc, err = h.run_to_exit("bad", ["/bin/true"], extra=("--max-overhead", bad))
        check(rc == 64 and "--max-overhead" in err, f"--max-overhead {bad}: exit {rc}: {err!r}")


ckpt_harness.main("storm", body)
