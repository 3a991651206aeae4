#!/usr/bin/python3
"""Issue 9, item 4: FIFOs and other nodes made after the checkpoint (mkfifo, mkfifoat, mknod,
mknodat) are removed by the recovery, like a created file."""
import os

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check

SOURCE = r"""
#include <sys/sysmacros.h>
int main(int argc, char **argv)
{
    g_work = argv[1];
    int dfd = open(g_work, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) die("open work");
    checkpoint_or_exit();
    if (mkfifo(at("fifo"), 0600) != 0) die("mkfifo");
    if (mkfifoat(dfd, "fifoat", 0600) != 0) die("mkfifoat");
    if (mknod(at("node"), S_IFIFO | 0600, 0) != 0) die("mknod");
    if (mknodat(dfd, "nodeat", S_IFREG | 0600, 0) != 0) die("mknodat");
    ready_and_wait(argv[2]);
}
"""


def body(h):
    exe = cc.build(h, "node_maker", SOURCE)
    work = h.path("work")
    os.makedirs(work)
    cc.write_file(os.path.join(work, "kept"), b"k")
    cc.changed_after_checkpoint(h, "fifo", exe, work)
    left = sorted(os.listdir(work))
    check(left == ["kept"], f"after recovery the work directory holds {left}, not just ['kept']")


if __name__ == "__main__":
    ckpt_harness.main("correctness_fifo_node_removed", body)
