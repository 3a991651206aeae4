"""Loopback etcd clusters for the checkpoint-service tests (tests/cps).

EtcdCluster(n) starts n etcd members on free 127.0.0.1 ports, each with its data directory in
one temporary directory, and stops every member it started, by pid, when closed. Members can
be killed (SIGKILL) and restarted with their data to inject store faults.

Run as a program, it wraps a command:  etcd_cluster.py [--members N] -- COMMAND ARGS...
starts the cluster, runs COMMAND with CKPT_CPS_ENDPOINTS set to it, stops the cluster and exits
with COMMAND's status.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_ports(n):
    """n distinct free loopback TCP ports (bound, read, released together)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class EtcdCluster:
    def __init__(self, members=3, etcd="etcd", log_dir=None):
        self.etcd = shutil.which(etcd) or etcd
        self.dir = tempfile.mkdtemp(prefix="ckpt-cps-etcd-", dir=log_dir)
        ports = free_ports(2 * members)
        self.names = [f"m{i}" for i in range(members)]
        self.client = {n: ports[2 * i] for i, n in enumerate(self.names)}
        self.peer = {n: ports[2 * i + 1] for i, n in enumerate(self.names)}
        self.procs = {}
        self.initial = ",".join(f"{n}=http://127.0.0.1:{self.peer[n]}" for n in self.names)
        try:
            for n in self.names:
                self.start(n)
            self.wait_healthy(self.names)
        except BaseException:
            self.close()
            raise

    @property
    def endpoints(self):
        return ",".join(self.url(n) for n in self.names)

    def url(self, name):
        return f"http://127.0.0.1:{self.client[name]}"

    def start(self, name):
        """Starts (or restarts, with its data) member `name`."""
        assert name not in self.procs
        data = os.path.join(self.dir, name)
        new = not os.path.exists(data)
        args = [self.etcd, "--name", name, "--data-dir", data,
                "--listen-client-urls", self.url(name), "--advertise-client-urls", self.url(name),
                "--listen-peer-urls", f"http://127.0.0.1:{self.peer[name]}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer[name]}",
                "--initial-cluster", self.initial, "--initial-cluster-token", os.path.basename(self.dir),
                "--initial-cluster-state", "new",
                # Faster failure detection than the WAN-friendly defaults: loopback only.
                "--heartbeat-interval", "50", "--election-timeout", "500",
                "--max-request-bytes", str(4 * 1024 * 1024), "--log-level", "error"]
        if not new:
            args.remove("--initial-cluster-state")
            args.remove("new")
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()

    def kill(self, name):
        p = self.procs.pop(name)
        p.kill()
        p.wait()

    def alive(self):
        return list(self.procs)

    def healthy(self, name):
        try:
            with urllib.request.urlopen(self.url(name) + "/health", timeout=1) as r:
                return json.load(r).get("health") == "true"
        except (OSError, ValueError):
            return False

    def wait_healthy(self, names, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for n in names:
                p = self.procs.get(n)
                if p and p.poll() is not None:
                    raise RuntimeError(f"etcd member {n} exited with {p.returncode}; see {self.dir}/{n}.log")
            if all(self.healthy(n) for n in names):
                return
            time.sleep(0.05)  # polling a condition, not a guessed delay
        raise RuntimeError(f"etcd members {names} not healthy after {timeout}s; logs in {self.dir}")

    def close(self):
        for n in list(self.procs):
            p = self.procs.pop(n)
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv):
    if not shutil.which("etcd"):
        print("etcd is not installed (scripts/setup.sh installs etcd-server): skipped", file=sys.stderr)
        return 77
    members = 1
    if argv[:1] == ["--members"]:
        members = int(argv[1])
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    with EtcdCluster(members) as c:
        env = dict(os.environ, CKPT_CPS_ENDPOINTS=c.endpoints)
        return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
