"""What the checkpoint-service end-to-end tests share: command-line arguments, the peer
processes (cps_peer.cpp) with their line protocol, and direct looks into etcd."""
import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

from etcd_cluster import EtcdCluster


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--peer", required=True)
    p.add_argument("--ckptctl", default=None)
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args()
    if not shutil.which("etcd"):
        print("etcd is not installed (scripts/setup.sh installs etcd-server): skipped")
        sys.exit(77)
    a.seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print(f"seed {a.seed}", flush=True)
    random.seed(a.seed)
    return a


class Peer:
    """A cps_peer process; its stdout lines are collected by a thread."""

    def __init__(self, exe, argv, endpoints, env=None):
        e = dict(os.environ, CKPT_CPS_ENDPOINTS=endpoints)
        e.update(env or {})
        self.p = subprocess.Popen([exe] + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=e, text=True, bufsize=1)
        self.lines = []
        self.cv = threading.Condition()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.lines.append("<eof>")
            self.cv.notify_all()

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def wait_for(self, pred, timeout=30):
        """Waits until pred(lines) is true; returns it. Fails the test on time-out."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                r = pred(self.lines)
                if r:
                    return r
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"peer {self.p.args} did not get there in {timeout}s; last lines {self.lines[-5:]}")
                self.cv.wait(left)

    def values(self, tag):
        with self.cv:
            return [int(l.split()[1]) for l in self.lines if l.startswith(tag + " ")]

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.t.join(5)

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.t.join(5)


def etcd_count(endpoint, prefix):
    """How many keys etcd has under `prefix`."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    req = json.dumps({"key": base64.b64encode(prefix.encode()).decode(),
                      "range_end": base64.b64encode(end.encode()).decode(), "count_only": True}).encode()
    with urllib.request.urlopen(urllib.request.Request(endpoint + "/v3/kv/range", data=req), timeout=5) as r:
        return int(json.load(r).get("count", "0"))


def etcd_get(endpoint, key):
    req = json.dumps({"key": base64.b64encode(key.encode()).decode()}).encode()
    with urllib.request.urlopen(urllib.request.Request(endpoint + "/v3/kv/range", data=req), timeout=5) as r:
        kvs = json.load(r).get("kvs", [])
    return base64.b64decode(kvs[0].get("value", "")).decode("latin-1") if kvs else None


def poll_until(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)  # polling a condition
    raise AssertionError(f"timed out ({timeout}s) waiting for {what}")


def contiguous(values):
    """True if values go up by exactly one each (no gap, no repeat, in order)."""
    return all(b == a + 1 for a, b in zip(values, values[1:]))
