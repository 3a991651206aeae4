#!/usr/bin/python3
"""Issue 9, item 10: shared memory whose sharing a restore cannot bring back is refused with a
message naming it, and the program runs on (and ends normally):
  * a SysV shared memory attachment (shmat): its segment belongs to the system, by key, not to
    the process; saved, it would come back as a private copy;
  * a memfd mapped MAP_SHARED at two addresses (its descriptor closed): restored as two
    separate copies, a write through one would no longer show through the other."""
import ckpt_harness
from ckpt_harness import check, log
from fdcase_common import Case


def scenario(h, mode, pattern, what, expected_out=b""):
    case = Case(h, mode)
    out = h.make_output(f"{mode}.out")
    launcher = case.start(out)
    case.wait_file(launcher, "ready")
    line = case.refused(launcher, pattern, what)
    check(h.versions(launcher.job_path) == [], f"{mode}: a checkpoint was committed: {h.versions(launcher.job_path)}")
    case.finish(launcher)
    check(ckpt_harness.read_bytes(out) == expected_out, f"{mode}: output {ckpt_harness.read_bytes(out)!r}")
    log(f"{mode}: {line!r}; the program ran on and ended normally")


def body(h):
    scenario(h, "shm", r"SysV shared memory[^\n]*/SYSV", "a refusal naming the SysV attachment")
    scenario(h, "memfd-twice", r"mapped shared twice[^\n]*memfd:fdcase", "a refusal naming the memfd mapped twice",
             b"shared=1\n")


ckpt_harness.main("shared_memory", body)
