"""Updates a file through a writable shared mapping (Python's mmap module, MAP_SHARED) in a loop.
Deterministic. usage: py_mmap.py FILE STEPS"""
import mmap
import os
import sys
import time

path, steps = sys.argv[1], int(sys.argv[2])
size = 256 * 1024
with open(path, "wb") as f:
    f.write(b"." * size)
fd = os.open(path, os.O_RDWR)
mm = mmap.mmap(fd, size)
for i in range(1, steps + 1):
    off = (i * 4099) % (size - 32)
    mm[off:off + 16] = f"step {i:010d} ".encode()
    mm[0:16] = f"last {i:09d}  ".encode()
    time.sleep(0.005)
mm.close()
os.close(fd)
print("py_mmap done", steps)
