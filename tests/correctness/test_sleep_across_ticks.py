#!/usr/bin/python3
"""Issue 9, item 8: a sleeping program sleeps as long as it asked, across checkpoints and
across a restore, and its own signals still interrupt it.

  1. sleeper MODE MS COUNT under --interval 100ms, for sleep(2), usleep, nanosleep,
     clock_nanosleep, poll(NULL, 0, MS), ppoll, select, pselect, epoll_wait, epoll_pwait and
     sigtimedwait: every wait measures at least MS on CLOCK_MONOTONIC and ends without EINTR
     (it used to return early, or with EINTR, at each checkpoint), and checkpoint signals came
     meanwhile (checkpoints committed, or refused for the epoll descriptor).
  2. sleeper alarm: the program's own SIGALRM (handler without SA_RESTART) still interrupts
     its nanosleep and poll with EINTR under ckpt-run.
  3. sleeper wall 4000: the program is killed while it sleeps, after a checkpoint taken in the
     middle of the sleep, and resumed: the sleep goes on after the restore and lasts at least
     the 4 s asked on CLOCK_REALTIME since it began (the time spent dead does not count as
     slept: the remainder at the checkpoint is slept after the restore).
"""
import os
import re

import ckpt_harness
from ckpt_harness import check, log

# A tick: a committed checkpoint, or one refused (ckpt does not checkpoint an epoll descriptor
# yet: the epoll waits meet refused checkpoints, which interrupt them just the same).
TICK = re.compile(r"checkpoint version \d+ committed|checkpoint refused")

WAITS = [("sleep", 2000, 2), ("usleep", 700, 2), ("nanosleep", 700, 2), ("clock_nanosleep", 700, 2),
         ("poll", 2000, 1), ("ppoll", 700, 2), ("select", 700, 2), ("pselect", 700, 2),
         ("epoll_wait", 2000, 1), ("epoll_pwait", 700, 2), ("sigtimedwait", 700, 2)]


def run_waits(h):
    for mode, ms, count in WAITS:
        out = h.make_output(f"{mode}.out")
        # No overhead bound: one slow checkpoint (a loaded disk) must not push the next tick
        # past the waits, which need ticks to come during them.
        rc, err = h.run_to_exit(mode, [h.program("sleeper"), mode, str(ms), str(count)], out, interval="100ms",
                                extra=["--max-overhead", "0"])
        text = ckpt_harness.read_bytes(out).decode(errors="replace")
        check(rc == 0, f"sleeper {mode} exited with {rc}: {text!r}; log:\n{err}")
        expected = "".join(f"{mode} {i} ok\n" for i in range(count))
        check(text == expected, f"sleeper {mode} printed {text!r}, expected {expected!r}")
        n = len(TICK.findall(err))
        check(n >= 2, f"only {n} checkpoints were taken while sleeper {mode} waited; log:\n{err}")
        log(f"{mode}: {count} waits of {ms} ms each lasted the time asked, across {n} checkpoints")


def run_alarm(h):
    out = h.make_output("alarm.out")
    rc, err = h.run_to_exit("alarm", [h.program("sleeper"), "alarm", "300", "1"], out, interval="100ms")
    text = ckpt_harness.read_bytes(out).decode(errors="replace")
    check(rc == 0 and text == "nanosleep interrupted ok\npoll interrupted ok\n",
          f"sleeper alarm exited with {rc}: {text!r}; log:\n{err}")
    log("the program's own SIGALRM still interrupts nanosleep and poll with EINTR")


def run_restore_mid_sleep(h):
    argv = [h.program("sleeper"), "wall", "4000", "1"]
    out = h.make_output("wall.out")
    first = h.start("wall", argv, out, interval="100ms")

    def sleeping():
        if first.poll() is not None:
            raise ckpt_harness.TestFailure(f"ckpt-run exited with {first.rc}; log:\n{first.log_text()}")
        return b"sleeping\n" in ckpt_harness.read_bytes(out)
    h.poll(sleeping, "the program to start sleeping")
    since = h.versions(first.job_path)
    newest = h.wait_for_version_above(first, since[-1] if since else 0, "a checkpoint during the sleep")
    rc = h.kill_program(first)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill; log:\n{first.log_text()}")
    log(f"killed in the middle of the sleep, after version {newest}")
    rc, err = h.run_to_exit("wall", argv, out, interval="100ms")
    text = ckpt_harness.read_bytes(out).decode(errors="replace")
    check("restored from checkpoint version" in err, f"the rerun did not restore; log:\n{err}")
    check(rc == 0 and text == "sleeping\nslept ok\n", f"the restored sleeper exited with {rc}: {text!r}; log:\n{err}")
    log("the restored program slept the rest of its 4 s")


def body(h):
    run_waits(h)
    run_alarm(h)
    run_restore_mid_sleep(h)


ckpt_harness.main("sleep_across_ticks", body)
