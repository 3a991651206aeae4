"""For the option tests. usage: py_opts.py DIR SNAPDIR STEPS [replace]
Default: appends a line per step to DIR/log.txt and DIR/data.txt (flushed). A restored process
(its parent changed) announces itself in SNAPDIR/resumed and waits for SNAPDIR/go-N.
api: the same, after ckpt_exclude(DIR/log.txt).
replace: keeps DIR/in.txt open; a restored process writes what its descriptor now reads to
DIR/result.txt and exits."""
import os
import sys
import time

d, snap, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "append"
ppid = os.getppid()
if mode == "api":
    # The runtime API, as a program would call it (libckpt.so is preloaded, so the symbol is
    # in the global scope).
    import ctypes
    if ctypes.CDLL(None).ckpt_exclude(os.path.join(d, "log.txt").encode()) != 0:
        sys.exit("ckpt_exclude failed")
if mode == "replace":
    fd = os.open(os.path.join(d, "in.txt"), os.O_RDONLY)
    while True:
        if os.getppid() != ppid:
            with open(os.path.join(d, "result.txt"), "wb") as f:
                f.write(os.pread(fd, 4096, 0))
            sys.exit(0)
        time.sleep(0.01)
log = open(os.path.join(d, "log.txt"), "a")
data = open(os.path.join(d, "data.txt"), "a")
for i in range(1, steps + 1):
    if os.getppid() != ppid:
        ppid = os.getppid()
        with open(os.path.join(snap, "resumed"), "a") as f:
            f.write(f"{i - 1}\n")
        with open(os.path.join(snap, "resumed")) as f:
            n = len(f.read().split())
        while not os.path.exists(os.path.join(snap, f"go-{n}")):
            time.sleep(0.005)
    log.write(f"log line {i}\n")
    log.flush()
    data.write(f"data line {i}\n")
    data.flush()
    time.sleep(0.01)
