#!/usr/bin/python3
"""A program blocked inside a wrapper (a write() to a full FIFO that nobody reads: the
persistent-state layer defers the checkpoint until the call returns) under --interval 200ms:
after more than two intervals the log and `ckptctl status` say that checkpoints are stalled
and why (deferred by the runtime); once the FIFO is read, checkpoints resume and the stall is
reported as over (issue 9, item 7)."""
import os
import re
import select

import ckpt_harness
import stall_common as sc
from ckpt_harness import check, log

BYTES = 1 << 20  # far more than a FIFO holds (64 KiB)


def body(h):
    fifo = h.path("fifo")
    os.mkfifo(fifo, 0o600)
    # The test is the reader, present from the start (so the program's open does not block),
    # but it reads nothing until the stall has been reported.
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        launcher = h.start("fifo", [h.program("fifo_writer"), fifo, str(BYTES)], h.make_output(), interval="200ms")
        h.program_pid(launcher)
        m = h.wait_for_log(launcher, sc.STALL_LOG_RE, "the stall warning", timeout=30)
        reason = m.group(1)
        log(f"logged: {m.group(0)}")
        check("deferred" in reason and "file-changing call" in reason,
              f"the stall's reason does not say the runtime deferred it inside a call: {reason!r}")
        line = h.poll(lambda: sc.stalled_line(h, "fifo"), "ckptctl status to report the stall", timeout=10)
        log(f"ckptctl status: {line}")
        check("deferred" in line, f"ckptctl status does not say why: {line!r}")
        check(not h.versions(launcher.job_path), "a checkpoint was committed while the write was blocked")

        # Clear the condition: read everything; the write returns, the program closes the FIFO.
        got = 0
        while True:
            select.select([rfd], [], [], 5)
            data = os.read(rfd, 1 << 16)
            if not data:
                break  # EOF: the writer closed it
            got += len(data)
        check(got == BYTES, f"read {got} bytes from the FIFO, expected {BYTES}")
    finally:
        os.close(rfd)
    m = h.wait_for_log(launcher, sc.RESUMED_LOG_RE, "checkpoints to resume", timeout=30)
    log(f"logged: {m.group(0)}")
    check(h.versions(launcher.job_path), "the stall was reported over, but no version exists")
    h.poll(lambda: sc.stalled_line(h, "fifo") is None, "ckptctl status to stop reporting the stall", timeout=10)
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc}; log:\n{launcher.log_text()}")


ckpt_harness.main("stall_wrapper", body)
