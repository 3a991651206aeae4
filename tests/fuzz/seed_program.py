"""The program make_corpus.sh runs under ckpt-run to produce real seed files: every kind of
file change the PCT records (write over old data, truncate, create, remove, rename, rename
exchange is not reachable from Python, mkdir/rmdir, chmod, symlink, exclude/include), in two
epochs (a chkpnt() between them, through ctypes: ckpt-run preloads libckpt), then SIGKILL,
so that the job directory keeps its image and both logs. usage: seed_program.py DIR"""
import ctypes
import os
import signal
import sys

d = sys.argv[1]
ckpt = ctypes.CDLL(None)
p = lambda n: os.path.join(d, n)
with open(p("data.bin"), "wb") as f:
    f.write(bytes(range(256)) * 8)
os.mkdir(p("sub"))
with open(p("sub/old.txt"), "w") as f:
    f.write("old contents\n")
os.symlink("data.bin", p("link"))
assert ckpt.chkpnt() == 0  # version 1: epoch 1 records what follows

with open(p("data.bin"), "r+b") as f:  # DATA + META
    f.seek(100)
    f.write(b"new bytes over old ones")
os.truncate(p("data.bin"), 1000)
with open(p("new.txt"), "w") as f:  # CREATE
    f.write("created\n")
os.rename(p("new.txt"), p("renamed.txt"))  # RENAME
os.unlink(p("sub/old.txt"))  # REMOVED (kept in undo-1/)
os.rmdir(p("sub"))  # RMDIR
os.chmod(p("data.bin"), 0o640)
os.unlink(p("link"))
ckpt.ckpt_exclude(p("*.log").encode())  # EXCLUDE
ckpt.ckpt_include(p("keep.log").encode())  # INCLUDE
with open(p("run.log"), "w") as f:
    f.write("excluded\n")
assert ckpt.chkpnt() == 0  # version 2: epoch 2

with open(p("data.bin"), "r+b") as f:
    f.write(b"epoch two")
os.mkdir(p("made"))
print("seed program: two checkpoints taken, crashing", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
