#!/usr/bin/python3
"""Issue 9, item 4: open("/proc/self/fd/N", O_TRUNC) (and /dev/fd/N, /proc/PID/fd/N) is an
open of the file the descriptor names: its bytes are saved before the truncation.

The program takes a checkpoint, opens three files read-only and reopens each for writing with
O_TRUNC through one of the three names of its descriptor, and writes new bytes. Killed and
recovered, each file holds its bytes of the checkpoint again."""
import os

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check

SOURCE = r"""
static void reopen_truncate(const char *file, const char *fmt)
{
    int ro = open(file, O_RDONLY);
    if (ro < 0) die("open");
    char link[64];
    snprintf(link, sizeof link, fmt, ro);
    if (strstr(fmt, "/proc/%d")) snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)getpid(), ro);
    int w = open(link, O_WRONLY | O_TRUNC);
    if (w < 0) die(link);
    if (write(w, "new", 3) != 3) die("write");
    close(w);
    close(ro);
}
int main(int argc, char **argv)
{
    g_work = argv[1];
    checkpoint_or_exit();
    reopen_truncate(at("self"), "/proc/self/fd/%d");
    reopen_truncate(at("devfd"), "/dev/fd/%d");
    reopen_truncate(at("pid"), "/proc/%d/fd/%d");
    ready_and_wait(argv[2]);
}
"""


def body(h):
    exe = cc.build(h, "procfd_truncater", SOURCE)
    work = h.path("work")
    os.makedirs(work)
    originals = {"self": b"S" * 9000, "devfd": b"D" * 10, "pid": b"P" * 4096}
    for n, d in originals.items():
        cc.write_file(os.path.join(work, n), d)
    cc.changed_after_checkpoint(h, "procfd", exe, work)
    for n, d in originals.items():
        now = cc.read_file(os.path.join(work, n))
        check(now == d, f"after recovery {n} holds {len(now)} bytes {now[:20]!r}, not its {len(d)} bytes of the checkpoint")


if __name__ == "__main__":
    ckpt_harness.main("correctness_proc_fd_truncate_undone", body)
