#!/usr/bin/python3
"""Issue 9, item 10: a namespace descriptor (/proc/self/ns/net) cannot be restored. A
checkpoint while it is open is refused with a message naming it, the program runs on, and the
versions taken before it was opened still restore."""
import ckpt_harness
from ckpt_harness import check, log
from fdcase_common import Case


def body(h):
    case = Case(h, "nsnet")
    launcher = case.start()
    v = case.checkpoint_after_ready(launcher)
    case.touch("go1")
    case.wait_file(launcher, "opened")
    line = case.refused(launcher, r"namespace[^\n]*net:\[", "a refused checkpoint naming the namespace descriptor")
    log(f"refused: {line!r}")
    check(launcher.poll() is None, "the program did not run on after the refusal")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill")
    case.touch("go")
    rc, err = h.run_to_exit(case.job, case.argv)
    check(rc == 0 and "restored from checkpoint version" in err,
          f"a version from before the namespace descriptor (>= {v}) did not restore ({rc}):\n{err}")
    log("an earlier version restored and the program ended normally")


ckpt_harness.main("fd_namespace", body)
