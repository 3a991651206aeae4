#!/usr/bin/python3
"""Issue 9, item 6: a checkpoint signal that lands between an exec and the runtime's start in
the new image must not kill the program.

reexec 150 execs itself 150 times, each generation working about 30 ms, under
--interval 10ms --max-overhead 100: many checkpoint signals come while an exec is in progress, when the new image
has no handler yet and the signal's default action would end the process. The launcher
blocks the signal across its own exec, the runtime's exec wrappers across the program's; the
runtime takes it once its handler is installed. The run must end with exit 0 and the output
of a plain run.
"""
import ckpt_harness
from ckpt_harness import check, log


def body(h):
    argv = [h.program("reexec"), "150"]
    reference, _ = h.reference(argv)
    out = h.make_output("reexec.out")
    # --max-overhead 100: no throttling, so that ticks keep coming at every generation.
    rc, err = h.run_to_exit("reexec", argv, out, interval="10ms", extra=("--max-overhead", "100"))
    data = ckpt_harness.read_bytes(out)
    check(rc == 0, f"reexec under ckpt-run exited with {rc} after {data.count(b'generation')} generations; "
          f"log:\n{err[-3000:]}")
    check(data == reference, "the output differs from a plain run: " + ckpt_harness.describe_difference(reference, data))
    log(f"150 execs under --interval 10ms: exit 0, output identical; "
        f"{err.count('committed')} checkpoints committed meanwhile")


ckpt_harness.main("exec_window", body)
