#!/usr/bin/python3
"""Issue 9, item 4: dprintf()/vdprintf() writes to a file are recorded and undone.

The program takes a checkpoint, then overwrites the start of an existing file with dprintf and
vdprintf (through two descriptors, one opened before the checkpoint). Killed and recovered,
the file holds its bytes of the checkpoint again."""
import os

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check

SOURCE = r"""
#include <stdarg.h>
static int via_vdprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vdprintf(fd, fmt, ap);
    va_end(ap);
    return r;
}
int main(int argc, char **argv)
{
    g_work = argv[1];
    int a = open(at("a"), O_WRONLY);
    if (a < 0) die("open a");
    checkpoint_or_exit();
    if (dprintf(a, "dprintf wrote %d here\n", 42) <= 0) die("dprintf");
    int b = open(at("b"), O_WRONLY);
    if (b < 0) die("open b");
    if (via_vdprintf(b, "vdprintf wrote %s\n", "this") <= 0) die("vdprintf");
    ready_and_wait(argv[2]);
}
"""


def body(h):
    exe = cc.build(h, "dprintf_writer", SOURCE)
    work = h.path("work")
    os.makedirs(work)
    originals = {"a": b"A" * 5000, "b": b"B" * 100}
    for n, d in originals.items():
        cc.write_file(os.path.join(work, n), d)
    cc.changed_after_checkpoint(h, "dprintf", exe, work)
    for n, d in originals.items():
        now = cc.read_file(os.path.join(work, n))
        check(now == d, f"after recovery {n} holds {now[:30]!r}..., not its bytes of the checkpoint")


if __name__ == "__main__":
    ckpt_harness.main("correctness_dprintf_undone", body)
