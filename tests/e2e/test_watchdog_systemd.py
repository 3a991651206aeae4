#!/usr/bin/python3
"""Under systemd (NOTIFY_SOCKET, WATCHDOG_USEC), ckpt-run reports READY=1 once the program runs
and sends WATCHDOG=1 pings while it is healthy; the program itself does not inherit the
notification socket. A datagram socket of the test stands in for systemd."""
import os
import socket

import ckpt_harness
import watchdog_common as wd
from ckpt_harness import check, log


def body(h):
    sock_path = h.path("notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.05)
    h.env = dict(h.env, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="200000")
    # The program prints whether it sees NOTIFY_SOCKET: flaky does not, so use the shell.
    argv = ["/bin/sh", "-c", 'echo "notify=${NOTIFY_SOCKET:-none}"; exec "$0" 60 from 61', wd.flaky(h)]
    out = h.make_output()
    launcher = h.start("sd", argv, out, interval="1h", extra=["--watchdog", "--poll", "500ms"])
    messages = []
    while launcher.poll() is None:
        try:
            messages.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
    rc = launcher.wait(60)
    sock.close()
    check(rc == 0, f"ckpt-run exited with {rc}; log:\n{launcher.log_text()}")
    ready = [m for m in messages if "READY=1" in m.split("\n")]
    pings = [m for m in messages if m == "WATCHDOG=1"]
    check(len(ready) == 1, f"expected one READY=1, got {messages}")
    check(len(pings) >= 3, f"expected WATCHDOG=1 pings every 100 ms for about 1.5 s, got {len(pings)}: {messages}")
    first = ckpt_harness.read_bytes(out).split(b"\n")[0]
    check(first == b"notify=none", f"the program inherited NOTIFY_SOCKET: {first!r}")
    log(f"READY=1 once, {len(pings)} watchdog pings; the program did not see the socket")


ckpt_harness.main("watchdog_systemd", body)
