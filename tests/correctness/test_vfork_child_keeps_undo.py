#!/usr/bin/python3
"""Issue 9, item 4: a vfork() child's first wrapper call must not turn undo off in the parent.

The program takes a checkpoint, vfork()s a child that writes one byte to /dev/null (a wrapper
call in the child, which shares the parent's memory) and execs /bin/true, then overwrites a
file. Killed and recovered, the file must hold its bytes of the checkpoint again."""
import os

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check

SOURCE = r"""
#include <sys/wait.h>
int main(int argc, char **argv)
{
    g_work = argv[1];
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd < 0) die("open /dev/null");
    checkpoint_or_exit();
    pid_t pid = vfork();
    if (pid == 0) {
        if (write(null_fd, "x", 1) != 1) _exit(5);
        execl("/bin/true", "true", (char *)0);
        _exit(6);
    }
    if (pid < 0) die("vfork");
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("child");
    int fd = open(at("data"), O_WRONLY);
    if (fd < 0) die("open data");
    if (pwrite(fd, "CHANGED BY THE PARENT", 21, 0) != 21) die("pwrite");
    close(fd);
    ready_and_wait(argv[2]);
}
"""


def body(h):
    exe = cc.build(h, "vfork_writer", SOURCE)
    work = h.path("work")
    os.makedirs(work)
    original = b"original bytes of the checkpoint\n" * 10
    cc.write_file(os.path.join(work, "data"), original)
    cc.changed_after_checkpoint(h, "vfork", exe, work)
    now = cc.read_file(os.path.join(work, "data"))
    check(now == original, f"after recovery data holds {now[:40]!r}..., not its bytes of the checkpoint "
          "(the parent's write after the vfork child was not recorded)")


if __name__ == "__main__":
    ckpt_harness.main("correctness_vfork_child_keeps_undo", body)
