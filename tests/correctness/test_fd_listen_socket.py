#!/usr/bin/python3
"""Issue 10: listening sockets come back, and a thread blocked in accept() on one accepts
after the restore. tests/programs/fd_listen.c listens on loopback TCP (SO_REUSEADDR, backlog
7) and on a unix socket file (mode 0600), with a thread blocked in accept() on each at the
checkpoint, plus an abstract unix listener, a non-blocking TCP listener on every address and
an IPv6 loopback listener (where there is IPv6);
after a checkpoint it is SIGKILLed and restored, then it connects to each as a client: the
blocked threads must serve it, and address, options, backlog and flags must be as before.
A connected socket is still refused, with a message naming it, and the program runs on; so
is a listener with a connection waiting to be accepted, until the program accepts it."""
import os
import socket

import ckpt_harness
from ckpt_harness import check, log
from fdkind_common import run_kind


def connected_refused(h):
    case_dir = h.path("connected")
    os.makedirs(case_dir, exist_ok=True)
    launcher = h.start("fd-listen-connected", [h.program("fd_listen"), case_dir, "connected"], h.make_output("c.out"))
    h.poll(lambda: os.path.exists(os.path.join(case_dir, "ready")) or launcher.poll() is not None, "fd_listen: ready")
    m = h.wait_for_log(launcher, r"checkpoint refused: [^\n]*a socket not listening \(not supported yet\)"
                       r": fd \d+ -> socket:\[\d+\]", "a refusal naming the connected socket",
                       timeout=30)
    check(h.versions(launcher.job_path) == [], f"a checkpoint was committed: {h.versions(launcher.job_path)}")
    open(os.path.join(case_dir, "go"), "w").close()
    rc = launcher.wait()
    check(rc == 0, f"fd_listen connected ended with {rc}; log:\n{launcher.log_text()}")
    log(f"connected socket: {m.group(0)!r}; the program ran on and ended normally")


def pending_refused(h):
    """A connection waiting in the accept queue refuses the checkpoint (a restore could not
    bring the client's connection back); once the program accepted it, checkpoints resume."""
    case_dir = h.path("pending")
    os.makedirs(case_dir, exist_ok=True)
    at = lambda name: os.path.join(case_dir, name)
    launcher = h.start("fd-listen-pending", [h.program("fd_listen"), case_dir, "pending"], h.make_output("p.out"))

    def port():
        if launcher.poll() is not None:
            raise ckpt_harness.TestFailure(f"fd_listen pending ended with {launcher.rc}; log:\n{launcher.log_text()}")
        return int(open(at("port")).read()) if os.path.exists(at("port")) else None
    p = h.poll(port, "fd_listen pending: its port")
    h.wait_for_version_above(launcher, 0, "a checkpoint of the listener alone")
    client = socket.create_connection(("127.0.0.1", p))
    try:
        seen = len(launcher.log_text())
        m = h.wait_for_log(launcher, r"checkpoint refused: [^\n]*a listen queue holding connections \(retried later\): "
                           r"fd \d+ -> socket:\[\d+\]", "a refusal naming the listener with a waiting connection",
                           timeout=30)
        check(m.start() >= seen, "the refusal came before the client connected")
        v = h.versions(launcher.job_path)[-1]
        open(at("go1"), "w").close()
        h.poll(lambda: os.path.exists(at("drained")) or None, "fd_listen pending: the connection accepted")
        v2 = h.wait_for_version_above(launcher, v, "a checkpoint once the connection was accepted")
    finally:
        client.close()
    open(at("go"), "w").close()
    rc = launcher.wait()
    check(rc == 0, f"fd_listen pending ended with {rc}; log:\n{launcher.log_text()}")
    log(f"pending connection: {m.group(0)!r}; after the accept, version {v2} was committed")


def body(h):
    run_kind(h, "fd_listen", 12, inspect_words=("listening TCP socket 127.0.0.1:", "backlog 7, SO_REUSEADDR",
                                                "listening TCP socket 0.0.0.0:", "listening unix socket /",
                                                "listening unix socket @ckpt-fd-listen-"))
    connected_refused(h)
    pending_refused(h)


ckpt_harness.main("fd_listen_socket", body)
