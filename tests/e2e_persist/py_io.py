"""Python program doing file I/O through its own io layer (buffered text and binary files,
os.replace, os.truncate, os.chmod). Deterministic. usage: py_io.py DIR STEPS"""
import json
import os
import sys
import time

d, steps = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "blob.bin"), "wb") as f:
    f.write(b"\0" * 8192)
log = open(os.path.join(d, "log.txt"), "a", buffering=64)  # a small buffer: partial lines cross checkpoints
for i in range(1, steps + 1):
    log.write(f"python line {i:05d} " + "x" * (i % 23) + "\n")
    state = {"step": i, "items": list(range(i % 17))}
    tmp = os.path.join(d, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, os.path.join(d, "state.json"))
    with open(os.path.join(d, "blob.bin"), "r+b") as f:
        f.seek((i * 97) % 8000)
        f.write(f"<{i}>".encode())
    if i % 10 == 0:
        os.truncate(os.path.join(d, "blob.bin"), 8192 - (i % 100))
        with open(os.path.join(d, f"chunk-{i}.txt"), "w") as f:
            f.write("chunk\n" * i)
        old = os.path.join(d, f"chunk-{i - 20}.txt")
        if os.path.exists(old):
            os.unlink(old)
    os.chmod(os.path.join(d, "state.json"), 0o600 if i % 2 else 0o644)
    time.sleep(0.01)
log.close()
print("py_io done", steps)
