#!/usr/bin/python3
"""python3 (CPython, unmodified) computing a SHA-256 hash chain, killed 3 times and resumed."""
import ckpt_harness

CODE = r"""
import hashlib, sys
rounds, per_line = int(sys.argv[1]), int(sys.argv[2])
h = b"ckpt"
for i in range(1, rounds + 1):
    for _ in range(per_line):
        h = hashlib.sha256(h).digest()
    print(i, h.hex(), flush=(i % 10 == 0))
print("final", h.hex())
"""


def body(h):
    argv = ["/usr/bin/python3", "-I", "-c", CODE, "14000", "1000"]
    h.kill_and_resume(argv)


ckpt_harness.main("python3", body)
