#!/usr/bin/python3
"""CPython (unmodified) with four `threading` threads sharing a dict and a counter under one
Lock, each computing its own SHA-256 chain; killed 3 times under ckpt-run and resumed; the
output must be byte-identical to an uninterrupted run."""
import ckpt_harness

CODE = r"""
import hashlib, sys, threading
rounds, per = int(sys.argv[1]), int(sys.argv[2])
lock = threading.Lock()
shared = {"steps": 0, "xor": 0}
finals = {}
def work(k):
    h = ("thread-%d" % k).encode()
    for i in range(rounds):
        for _ in range(per):
            h = hashlib.sha256(h).digest()
        with lock:
            shared["steps"] += 1
            shared["xor"] ^= int.from_bytes(h[:8], "little")
    with lock:
        finals[k] = h.hex()
ts = [threading.Thread(target=work, args=(k,), name="worker-%d" % k) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
for k in range(4): print(k, finals[k])
print("steps", shared["steps"], "xor %016x" % shared["xor"])
"""


def body(h):
    argv = ["/usr/bin/python3", "-I", "-c", CODE, "3000", "800"]
    h.kill_and_resume(argv, job="python-threads")


ckpt_harness.main("python_threads", body)
