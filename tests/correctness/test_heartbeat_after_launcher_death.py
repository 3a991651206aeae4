#!/usr/bin/python3
"""Issue 9, item 6: ckpt_heartbeat() after the launcher's death must not raise SIGPIPE.

heartbeat_orphan forks a worker that calls ckpt_heartbeat() every 5 ms. The launcher is
SIGKILLed; the program ends (parent-death signal), and the worker, now an orphan, sends 100
more heartbeats into the status socket whose other end is gone, then writes its pid to a file
and exits 0. It must not die of SIGPIPE (the runtime sends with MSG_NOSIGNAL).
"""
import os
import signal

import ckpt_harness
from ckpt_harness import check, log


def body(h):
    out = h.make_output("orphan.out")
    launcher = h.start("orphan", [h.program("heartbeat_orphan"), h.tmp], out, interval="10s")

    def ready():
        if launcher.poll() is not None:
            raise ckpt_harness.TestFailure(f"ckpt-run exited with {launcher.rc}; log:\n{launcher.log_text()}")
        return b"ready\n" in ckpt_harness.read_bytes(out)
    h.poll(ready, "the program and its worker to run")
    program = h.program_pid(launcher)
    workers = ckpt_harness.children_of(program)
    check(len(workers) == 1, f"expected one worker of program {program}, found {workers}")
    worker = workers[0]
    h.program_pids.add(worker)
    os.kill(launcher.pid, signal.SIGKILL)
    launcher.wait()
    log(f"launcher killed; worker {worker} goes on heartbeating")
    survived = os.path.join(h.tmp, "survived")
    h.poll(lambda: os.path.exists(survived) or not ckpt_harness.is_alive(worker),
           f"worker {worker} to finish", timeout=30)
    try:
        _, status = os.waitpid(worker, 0)  # ours if we are its subreaper now
    except ChildProcessError:
        status = None
    if status is not None:
        check(not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGPIPE),
              "the worker died of SIGPIPE sending a heartbeat to the dead launcher")
    check(os.path.exists(survived), "the worker ended without writing its file (killed by SIGPIPE?)")
    log("100 heartbeats after the launcher's death: no SIGPIPE, worker exited 0")


ckpt_harness.main("heartbeat_after_launcher_death", body)
