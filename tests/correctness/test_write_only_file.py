#!/usr/bin/python3
"""Issue 9, item 8: pwrite() to a write-only file (mode 0200) works under ckpt although the
undo cannot simply reopen it for reading, and the recovery restores its bytes and its mode.

The program runs without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH after its checkpoint (as an
ordinary owner would), so that mode 0200 really forbids reading."""
import os
import stat

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check

SOURCE = r"""
#include <linux/capability.h>
#include <sys/syscall.h>
static void drop_dac_capabilities(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) != 0) die("capget");
    data[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    if (syscall(SYS_capset, &hdr, data) != 0) die("capset");
}
int main(int argc, char **argv)
{
    g_work = argv[1];
    checkpoint_or_exit();
    drop_dac_capabilities();
    if (open(at("data"), O_RDONLY) >= 0) { fprintf(stderr, "mode 0200 did not stop reading\n"); return 6; }
    int fd = open(at("data"), O_WRONLY);
    if (fd < 0) die("open O_WRONLY");
    if (pwrite(fd, "overwritten", 11, 100) != 11) die("pwrite to the 0200 file");
    if (write(fd, "and more", 8) != 8) die("write to the 0200 file");
    int t = open(at("trunc"), O_WRONLY | O_TRUNC);
    if (t < 0) die("open O_TRUNC of the 0200 file");
    ready_and_wait(argv[2]);
}
"""


def body(h):
    exe = cc.build(h, "write_only_writer", SOURCE)
    work = h.path("work")
    os.makedirs(work)
    originals = {"data": b"W" * 6000, "trunc": b"T" * 3000}
    for n, d in originals.items():
        cc.write_file(os.path.join(work, n), d, mode=0o200)
    cc.changed_after_checkpoint(h, "writeonly", exe, work)
    for n, d in originals.items():
        p = os.path.join(work, n)
        mode = stat.S_IMODE(os.stat(p).st_mode)
        check(mode == 0o200, f"after recovery {n} has mode {mode:o}, not 200")
        now = cc.read_file(p)  # we still are root
        check(now == d, f"after recovery {n} holds {len(now)} bytes {now[:20]!r}, not its bytes of the checkpoint")


if __name__ == "__main__":
    ckpt_harness.main("correctness_write_only_file", body)
