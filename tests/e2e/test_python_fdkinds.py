#!/usr/bin/python3
"""python3 (CPython, unmodified, one thread) driving an event loop of its own over kernel
objects of issue 10: select.epoll watching an os.eventfd and the read end of a self-pipe, and
a hash chain kept in an os.memfd_create memfd through a MAP_SHARED mmap (CPython keeps a dup
of the descriptor for it) and read back through the descriptor. Killed 3 times at random
moments and resumed: the output must be identical to an uninterrupted run's."""
import ckpt_harness

CODE = r"""
import hashlib, mmap, os, select, sys
rounds = int(sys.argv[1])
ep = select.epoll()
efd = os.eventfd(0, os.EFD_NONBLOCK)
rd, wr = os.pipe()
os.set_blocking(rd, False)
ep.register(efd, select.EPOLLIN)
ep.register(rd, select.EPOLLIN | select.EPOLLET)
mfd = os.memfd_create("chain")
os.ftruncate(mfd, 4096)
shared = mmap.mmap(mfd, 4096)
h = b"ckpt"
for i in range(1, rounds + 1):
    for _ in range(300):
        h = hashlib.sha256(h).digest()
    os.eventfd_write(efd, i % 7 + 1)
    if i % 3 == 0:
        os.write(wr, b"x")
    ready = sorted(fd for fd, _ in ep.poll(5.0))
    n = os.eventfd_read(efd)
    piped = os.read(rd, 16) if rd in ready else b""
    shared[0:32] = h
    back = os.pread(mfd, 32, 0)
    assert back == h, (i, back, h)
    print(i, n, len(piped), ready == sorted([efd] + ([rd] if piped else [])), h.hex()[:16],
          flush=(i % 20 == 0))
print("final", h.hex())
"""


def body(h):
    argv = ["/usr/bin/python3", "-I", "-c", CODE, "20000"]
    h.kill_and_resume(argv)


ckpt_harness.main("python3_fdkinds", body)
