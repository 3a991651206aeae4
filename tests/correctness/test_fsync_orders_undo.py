#!/usr/bin/python3
"""Issue 9, item 5: when the program asks for durability (fsync, fdatasync, sync_file_range,
msync, syncfs, sync), the undo record of its change is made durable first, not only under
--sync-undo.

Durability itself cannot be watched from a test, the order of the system calls can: the
program, traced with strace, changes a file after its checkpoint (pwrite, or a store into a
writable shared mapping) and asks for durability; between the change and the program's sync
call there must be an fdatasync of ckpt's log (a descriptor >= 1002, where ckpt keeps its
own)."""
import os
import re
import shutil
import subprocess

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check, log

SOURCE = r"""
#include <sys/mman.h>
static int change(const char *name)
{
    int fd = open(at(name), O_RDWR);
    if (fd < 0) die("open");
    if (pwrite(fd, "X", 1, 0) != 1) die("pwrite");
    return fd;
}
int main(int argc, char **argv)
{
    g_work = argv[1];
    checkpoint_or_exit();
    int a = change("a");
    if (fsync(a) != 0) die("fsync");
    int b = change("b");
    if (fdatasync(b) != 0) die("fdatasync");
    int c = change("c");
    if (sync_file_range(c, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
        die("sync_file_range");
    int e = change("e");
    if (syncfs(e) != 0) die("syncfs");
    int f = change("f");
    sync();
    int d = open(at("d"), O_RDWR);
    if (d < 0) die("open d");
    char *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d, 0);
    if (m == MAP_FAILED) die("mmap");
    m[0] = 'X';
    if (msync(m, 4096, MS_SYNC) != 0) die("msync");
    (void)f;
    ready_and_wait(argv[2]);
}
"""

SYNC_CALLS = ("fsync", "fdatasync", "sync_file_range", "syncfs", "sync", "msync")
LINE = re.compile(r"^(\d+)\s+(\w+)\((.*)$")


def body(h):
    strace = shutil.which("strace")
    if not strace:
        print("SKIP: strace is not installed", flush=True)
        raise SystemExit(77)
    exe = cc.build(h, "syncer", SOURCE)
    work = h.path("work")
    os.makedirs(work)
    for n in "abcdef":
        cc.write_file(os.path.join(work, n), n.encode() * 8192)
    marker = h.path("sync.ready")
    trace = h.path("strace.out")
    argv = [exe, work, marker]
    cmd = [strace, "-f", "-qq", "-o", trace, "-e",
           "trace=pwrite64,mmap,fsync,fdatasync,sync_file_range,syncfs,sync,msync",
           h.ckpt_run, "--dir", h.path("ckpt"), "--name", "sync", "--interval", "1h", "--", *argv]
    out = open(h.path("sync.out"), "wb")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=h.tmp)
    h.processes.append(p)

    def ready():
        if p.poll() is not None:
            raise ckpt_harness.TestFailure(f"strace ckpt-run exited with {p.returncode}:\n"
                                           f"{cc.read_file(h.path('sync.out')).decode(errors='replace')}")
        return os.path.exists(marker)
    h.poll(ready, "the traced program to make its changes durable")
    program = None
    with open(trace) as f:
        lines = f.read().splitlines()
    # The program: the process that wrote "X" at offset 0.
    for ln in lines:
        m = LINE.match(ln)
        if m and m.group(2) == "pwrite64" and '"X", 1, 0)' in m.group(3):
            program = m.group(1)
            break
    check(program, "no pwrite64 of the program in the trace:\n" + "\n".join(lines[-40:]))
    log(f"program pid {program} in the trace")
    pending = None   # the change not yet followed by a sync of ckpt's log
    checked = []
    for ln in lines:
        m = LINE.match(ln)
        if not m or m.group(1) != program:
            continue
        call, args = m.group(2), m.group(3)
        fd = re.match(r"(\d+)", args)
        fd = int(fd.group(1)) if fd else -1
        if call == "pwrite64" and '"X", 1, 0)' in args:
            pending = ln
        elif call == "mmap" and "MAP_SHARED" in args and "PROT_WRITE" in args:
            pending = ln  # the mapping's undo data is recorded when it is made
        elif call == "fdatasync" and fd >= 1002:
            pending = None
        elif call in SYNC_CALLS and (call in ("sync", "msync") or fd < 1002):
            check(pending is None, f"the program's {call} ran before ckpt's undo log was synced after the "
                  f"change:\n  change: {pending}\n  then:   {ln}")
            checked.append(call)
    missing = set(SYNC_CALLS) - set(checked)
    check(not missing, f"the trace shows no {sorted(missing)} of the program:\n" + "\n".join(lines[-60:]))
    log(f"each of {checked} came after ckpt's log was synced")
    os.kill(int(program), 9)
    p.wait(timeout=30)


if __name__ == "__main__":
    ckpt_harness.main("correctness_fsync_orders_undo", body)
