#!/usr/bin/python3
"""Issue 9, item 4: a siglongjmp() out of a write() blocked on a full pipe (the wrapper's
section never ends normally) must not stop checkpoints for good.

The program fills a pipe, blocks writing to it, leaves the write by siglongjmp from a SIGALRM
handler, closes the pipe and then keeps writing to a file (wrapper calls). Checkpoints (every
200 ms) must go on after that."""
import os

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check, log

SOURCE = r"""
#include <setjmp.h>
static sigjmp_buf g_env;
static void on_alarm(int sig) { (void)sig; siglongjmp(g_env, 1); }
int main(int argc, char **argv)
{
    g_work = argv[1];
    int p[2];
    if (pipe2(p, O_NONBLOCK) != 0) die("pipe");
    static char buf[65536];
    while (write(p[1], buf, sizeof buf) > 0) {}
    if (fcntl(p[1], F_SETFL, 0) != 0) die("fcntl");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, 0);
    if (sigsetjmp(g_env, 1) == 0) {
        alarm(1);
        write(p[1], buf, sizeof buf);  /* blocks until SIGALRM */
        fprintf(stderr, "the write to the full pipe returned\n");
        return 5;
    }
    close(p[0]);
    close(p[1]);
    int fd = open(at("log"), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) die("open log");
    int m = open(argv[2], O_WRONLY | O_CREAT, 0600);
    close(m);
    for (;;) {
        if (write(fd, "tick\n", 5) != 5) die("write log");
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, 0);
    }
}
"""


def body(h):
    exe = cc.build(h, "longjmp_writer", SOURCE)
    work = h.path("work")
    os.makedirs(work)
    marker = h.path("longjmp.done")
    launcher = h.start("longjmp", [exe, work, marker], h.make_output("longjmp.out"), interval="200ms")

    def left_write():
        if launcher.poll() is not None:
            raise ckpt_harness.TestFailure(f"ckpt-run exited with {launcher.rc}; log:\n{launcher.log_text()}")
        return os.path.exists(marker)
    h.poll(left_write, "the program to leave its blocked write by siglongjmp")
    before = (h.versions(launcher.job_path) or [0])[-1]
    log(f"left the blocked write by siglongjmp; newest version then: {before}")
    try:
        h.poll(lambda: (h.versions(launcher.job_path) or [0])[-1] >= before + 3,
               "three more checkpoints after the siglongjmp", timeout=20)
    except ckpt_harness.TestFailure:
        raise ckpt_harness.TestFailure(
            f"no checkpoints after the siglongjmp out of write (newest version stays "
            f"{(h.versions(launcher.job_path) or [0])[-1]}); log:\n{launcher.log_text()}")
    log(f"checkpoints go on: newest version {h.versions(launcher.job_path)[-1]}")
    h.kill_program(launcher)


if __name__ == "__main__":
    ckpt_harness.main("correctness_longjmp_out_of_write", body)
