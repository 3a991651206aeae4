#!/usr/bin/python3
"""Issue 9, item 8: an O_DIRECT pwrite() works under ckpt (no EINVAL from the undo's read of the
old bytes) and is undone by the recovery."""
import os

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check

SOURCE = r"""
int main(int argc, char **argv)
{
    g_work = argv[1];
    checkpoint_or_exit();
    int fd = open(at("data"), O_RDWR | O_DIRECT);
    if (fd < 0) die("open O_DIRECT");
    void *buf;
    if (posix_memalign(&buf, 4096, 8192) != 0) die("posix_memalign");
    memset(buf, 'N', 8192);
    if (pwrite(fd, buf, 8192, 4096) != 8192) die("O_DIRECT pwrite");
    ready_and_wait(argv[2]);
}
"""


def body(h):
    work = h.path("work")
    os.makedirs(work)
    probe = os.path.join(work, "probe")
    cc.write_file(probe, b"x" * 4096)
    try:
        os.close(os.open(probe, os.O_RDWR | os.O_DIRECT))
    except OSError as e:
        print(f"SKIP: the file system of {work} does not support O_DIRECT ({e})", flush=True)
        raise SystemExit(77)
    os.unlink(probe)
    exe = cc.build(h, "odirect_writer", SOURCE)
    original = bytes(range(256)) * 64  # 16 KiB
    cc.write_file(os.path.join(work, "data"), original)
    cc.changed_after_checkpoint(h, "odirect", exe, work)
    now = cc.read_file(os.path.join(work, "data"))
    check(now == original, "after recovery data does not hold its bytes of the checkpoint")


if __name__ == "__main__":
    ckpt_harness.main("correctness_odirect_pwrite", body)
