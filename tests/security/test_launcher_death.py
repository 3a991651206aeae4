#!/usr/bin/python3
"""Defect 4 of issue 8: killing only ckpt-run must not leave its program running unsupervised.

  1. SIGKILL to ckpt-run while the program runs: the program ends promptly (killed, as if the
     whole job had been), after a last checkpoint; the same command run again resumes it and
     its output is byte-identical to an uninterrupted run.
  2. The job stays locked while the old program lives: with the program stopped (SIGSTOP)
     when its launcher dies, a second ckpt-run refuses (75) and starts nothing; once the
     program continues, it ends, and the command resumes.
  3. SIGKILL to ckpt-run in the middle of a checkpoint (a 200 MiB image being written): the
     program does not die of SIGPIPE when it reports to the dead launcher; it ends as in 1.
"""
import os
import signal

import ckpt_harness
from ckpt_harness import check, log


def wait_gone(h, pid, what):
    """Polls until pid is no longer running, then reaps it (we are its subreaper); returns its
    wait status, or None if someone else reaped it."""
    h.poll(lambda: not ckpt_harness.is_alive(pid), what, timeout=20)
    try:
        _, status = os.waitpid(pid, 0)
        return status
    except ChildProcessError:
        return None


def acknowledged(h, launcher):
    return int(h.read_status(launcher.job_path).get("last_version", "0") or 0)


def kill_launcher(launcher):
    os.kill(launcher.pid, signal.SIGKILL)
    rc = launcher.wait()
    check(rc == -signal.SIGKILL, f"ckpt-run exited with {rc}, not killed")
    log(f"SIGKILL sent to ckpt-run pid {launcher.pid}")


def resume_and_compare(h, job, argv, out, reference, other=()):
    rc, err = h.run_to_exit(job, argv, out)
    check(rc == 0, f"the resumed run exited with {rc}; log:\n{err}")
    check("restored from checkpoint version" in err, f"the rerun did not resume the job; log:\n{err}")
    data = ckpt_harness.read_bytes(out)
    check(data == reference, "the resumed output differs from an uninterrupted run: " +
          ckpt_harness.describe_difference(reference, data))
    for path, content in other:
        check(ckpt_harness.read_bytes(path) == content, f"{path} was changed")


def scenario_running(h):
    argv = [h.program("counter"), "40", "50000"]
    reference, _ = h.reference(argv)
    out = h.make_output("running.out")
    first = h.start("running", argv, out, interval="300ms")
    h.wait_for_version_above(first, 0)
    program = h.program_pid(first)
    # The newest version the launcher has acknowledged. One whose image is on disk but whose
    # report was still on its way is a checkpoint in flight: the launcher's death makes it the
    # last one (the program does not run between its capture and its end), so it counts as
    # taken after the kill, as a new one would.
    h.poll(lambda: acknowledged(h, first) > 0, "the launcher to acknowledge a checkpoint")
    before = acknowledged(h, first)
    kill_launcher(first)
    status = wait_gone(h, program, f"program pid {program} to end after its launcher died")
    if status is not None:
        check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
              f"program ended with wait status {status:#x}, expected death by SIGKILL")
    after = h.versions(first.job_path)[-1]
    check(after > before, f"no last checkpoint was taken (newest version {before} before, {after} after)")
    log(f"program {program} ended after its launcher died; last checkpoint: version {after}")
    resume_and_compare(h, "running", argv, out, reference)


def scenario_locked(h):
    argv = [h.program("counter"), "40", "50000"]
    reference, _ = h.reference(argv, name="locked.reference")
    out = h.make_output("locked.out")
    first = h.start("locked", argv, out, interval="300ms")
    h.wait_for_version_above(first, 0)
    program = h.program_pid(first)
    os.kill(program, signal.SIGSTOP)
    kill_launcher(first)
    check(ckpt_harness.is_alive(program), "the stopped program vanished")
    out2 = h.make_output("locked.second.out")
    rc, err = h.run_to_exit("locked", argv, out2)
    check(rc == ckpt_harness.EXIT_TEMPFAIL,
          f"a second ckpt-run while the old program lives: exit {rc}, expected 75; log:\n{err}")
    check(str(program) in err and "still running" in err, f"the refusal does not name the live program: {err!r}")
    check(ckpt_harness.read_bytes(out2) == b"", "the second ckpt-run started a program")
    log(f"second ckpt-run refused while program {program} lives: {err.strip().splitlines()[-1]!r}")
    os.kill(program, signal.SIGCONT)
    wait_gone(h, program, f"program pid {program} to end once continued")
    resume_and_compare(h, "locked", argv, out, reference)


def scenario_mid_checkpoint(h):
    # grower N STEP_US GROW_AT MIB: 200 MiB dirtied from step 3 on: each checkpoint writes it all.
    argv = [h.program("grower"), "30", "50000", "3", "200"]
    reference, _ = h.reference(argv, name="mid.reference")
    out = h.make_output("mid.out")
    first = h.start("mid", argv, out, interval="100ms")
    program = h.program_pid(first)

    def writing_big():
        if first.poll() is not None:
            raise ckpt_harness.TestFailure(f"ckpt-run exited with {first.rc}; log:\n{first.log_text()}")
        for n in os.listdir(first.job_path):
            if n.startswith(".ckpt-") and n.endswith(".tmp"):
                try:
                    if os.path.getsize(os.path.join(first.job_path, n)) > (32 << 20):
                        return n
                except FileNotFoundError:
                    pass
        return None
    tmp = h.poll(writing_big, "a large checkpoint being written", interval=0.002)
    kill_launcher(first)
    log(f"launcher killed while {tmp} was being written")
    status = wait_gone(h, program, f"program pid {program} to end after its launcher died")
    if status is not None:
        check(not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGPIPE),
              "the program died of SIGPIPE reporting to its dead launcher")
        check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
              f"program ended with wait status {status:#x}, expected death by SIGKILL")
    resume_and_compare(h, "mid", argv, out, reference)


def body(h):
    scenario_running(h)
    scenario_locked(h)
    scenario_mid_checkpoint(h)


ckpt_harness.main("launcher_death", body)
