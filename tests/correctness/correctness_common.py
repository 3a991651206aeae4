"""What the correctness tests share beyond the end-to-end harness.

  * build(h, name, source): compiles a C program (the PRELUDE below first) with the system
    compiler into the test's directory; the program finds chkpnt() in the preloaded libckpt;
  * changed_after_checkpoint(h, job, source, work): the usual scenario: the program takes a
    checkpoint (chkpnt), changes files in `work`, creates the marker `argv[2]` and waits; the
    test SIGKILLs it once the marker exists and runs the same command again, which recovers
    (the files rolled back to the checkpoint) and lets the restored program exit at once.
    Returns the recovery's log.
"""
import os
import subprocess

import ckpt_harness
from ckpt_harness import check, log

PRELUDE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

extern int chkpnt(void) __attribute__((weak));

static const char *g_work;

static const char *at(const char *name)
{
    static char buf[8][4096];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, 4096, "%s/%s", g_work, name);
    return b;
}

static void die(const char *what)
{
    fprintf(stderr, "test program: %s: %s\n", what, strerror(errno));
    exit(3);
}

/* 0 after a fresh checkpoint; exits 0 at once when the process comes back through recovery. */
static void checkpoint_or_exit(void)
{
    if (!chkpnt) { fprintf(stderr, "test program: not under ckpt\n"); exit(4); }
    int r = chkpnt();
    if (r == INT_MAX) exit(0);  /* CKPT_RECOVERED */
    if (r != 0) die("chkpnt");
}

static void ready_and_wait(const char *marker)
{
    int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) die("marker");
    close(fd);
    for (;;) pause();
}
"""


def build(h, name, source, extra=()):
    src = h.path(f"{name}.c")
    exe = h.path(name)
    with open(src, "w") as f:
        f.write(PRELUDE)
        f.write(source)
    r = subprocess.run(["cc", "-O1", "-g", "-Wall", "-o", exe, src, *extra], capture_output=True, text=True)
    check(r.returncode == 0, f"cannot compile {name}.c:\n{r.stderr}")
    return exe


def write_file(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def changed_after_checkpoint(h, job, exe, work, extra=()):
    marker = h.path(f"{job}.ready")
    argv = [exe, work, marker]
    launcher = h.start(job, argv, h.make_output(f"{job}.out"), interval="1h", extra=extra)

    def ready():
        if launcher.poll() is not None:
            raise ckpt_harness.TestFailure(f"ckpt-run exited with {launcher.rc} before the program was ready; "
                                           f"log:\n{launcher.log_text()}\nprogram output:\n"
                                           f"{read_file(h.path(job + '.out')).decode(errors='replace')}")
        return os.path.exists(marker)
    h.poll(ready, f"{job}: the program to change its files after its checkpoint")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill; log:\n{launcher.log_text()}")
    rc, err = h.run_to_exit(job, argv, h.make_output(f"{job}.2.out"), interval="1h", extra=extra)
    check(rc == 0, f"the recovery run exited with {rc}; log:\n{err}")
    check("restored from checkpoint version" in err, f"the rerun did not recover the job; log:\n{err}")
    log(f"{job}: killed after its changes and recovered")
    return err
