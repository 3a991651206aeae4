#!/usr/bin/python3
"""A second ckpt-run of a job that is running: exit 75 with one message naming the running
launcher; the running job goes on undisturbed and completes."""
import ckpt_harness
from ckpt_harness import check


def body(h):
    argv = [h.program("counter"), "30", "100000"]
    reference, _ = h.reference(argv)
    out = h.make_output()
    first = h.start("job", argv, out)
    h.wait_for_version_above(first, 0)
    program = h.program_pid(first)
    out2 = h.make_output("second.out")
    rc, err = h.run_to_exit("job", argv, out2, verbose=False)
    check(rc == ckpt_harness.EXIT_TEMPFAIL, f"second ckpt-run: exit {rc}, expected 75; stderr:\n{err}")
    lines = [l for l in err.splitlines() if l.strip()]
    check(len(lines) == 1, f"expected one message, got {len(lines)}:\n{err}")
    check("already running" in lines[0] and str(first.pid) in lines[0],
          f"message does not say the job runs under launcher {first.pid}: {lines[0]!r}")
    check(ckpt_harness.read_bytes(out2) == b"", "the second ckpt-run started a program")
    check(first.poll() is None and ckpt_harness.is_alive(program), "the running job was disturbed")
    st = h.read_status(first.job_path)
    check(st.get("launcher_pid") == str(first.pid) and st.get("program_pid") == str(program),
          f"the status file no longer describes the running job: {st}")
    ckpt_harness.log(f"exit 75, {lines[0]!r}")
    rc = first.wait()
    check(rc == 0, lambda: f"the first run exited with {rc}; log:\n{first.log_text()}")
    check(ckpt_harness.read_bytes(out) == reference, "the first run's output differs from the reference")


ckpt_harness.main("already_running", body)
