#!/usr/bin/python3
"""Issue 9, item 8: another process appends to a log the program under ckpt-run also appends
to. Recovery used to truncate the log back to its size at the checkpoint and silently lose the
other process's lines. Now:

  * refused: the rerun exits 85, one message names the log and the byte counts, and nothing
    changes (the log keeps every byte, the images and the job's files are as they were);
  * --on-undo-failure=proceed: the recovery goes on and the log keeps its bytes (the other
    process's line among them);
  * control: without a foreign append the same scenario recovers as before (the log is cut
    back to its checkpoint size), and so does a program that grows files in every way the
    growth count follows (pwrite beyond the end, ftruncate/posix_fallocate up, a write after
    lseek past the end, after a truncation, after O_TRUNC, writev/dprintf on O_APPEND,
    copy_file_range, sendfile): none of it is taken for another process's append.

The program appends through write() on an O_APPEND descriptor, before and after the other
process's append (so its own bytes lie on both sides of the foreign ones); the other process is
/bin/sh's `>>` redirection, not under ckpt."""
import hashlib
import os
import subprocess

import ckpt_harness
import correctness_common as cc
from ckpt_harness import check, log

EXIT_FOREIGN_APPENDS = 85

SOURCE = r"""
static void line(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) die("write");
}
int main(int argc, char **argv)
{
    g_work = argv[1];
    int fd = open(at("app.log"), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) die("open app.log");
    line(fd, "before the checkpoint\n");
    checkpoint_or_exit();
    line(fd, "mine, after the checkpoint\n");
    /* Tell the test, then go on once it says so (it may append in between). */
    int m = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (m < 0) die("marker");
    close(m);
    while (access(at("go"), F_OK) != 0) usleep(2000);
    line(fd, "mine again, after the other process's\n");
    ready_and_wait(argv[3]);
}
"""

BEFORE = b"before the checkpoint\n"
FOREIGN = b"FOREIGN line from another process\n"


# The program alone, growing files in every way the growth count follows: its recovery must
# not mistake any of it for another process's append.
GROWER = r"""
#include <sys/sendfile.h>
#include <sys/uio.h>
static int at_open(const char *n, int flags) { int fd = open(at(n), flags); if (fd < 0) die(n); return fd; }
int main(int argc, char **argv)
{
    g_work = argv[1];
    checkpoint_or_exit();
    char buf[3000];
    memset(buf, 'n', sizeof buf);
    int fd = at_open("pwrite_beyond", O_WRONLY);
    if (pwrite(fd, buf, 100, 50000) != 100) die("pwrite beyond the end");
    close(fd);
    fd = at_open("ftruncate_up", O_RDWR);
    if (ftruncate(fd, 70000) != 0) die("ftruncate up");
    close(fd);
    fd = at_open("fallocate_up", O_RDWR);
    if (posix_fallocate(fd, 0, 90000) != 0) die("posix_fallocate");
    close(fd);
    /* Empty at the checkpoint (nothing to save: writes take the hot path), then written at an
     * offset moved past the end and at an offset a truncation left past the end. */
    fd = at_open("seek_hole", O_WRONLY);
    if (write(fd, buf, 10) != 10 || lseek(fd, 80000, SEEK_SET) != 80000 || write(fd, buf, 10) != 10)
        die("lseek past the end, write");
    close(fd);
    fd = at_open("shrink_then_write", O_RDWR);
    if (write(fd, buf, 3000) != 3000 || ftruncate(fd, 10) != 0 || write(fd, buf, 20) != 20)
        die("shrink, write at the old end");
    close(fd);
    fd = at_open("reopened_trunc", O_WRONLY | O_TRUNC);
    if (write(fd, buf, 3000) != 3000 || write(fd, buf, 3000) != 3000) die("write after O_TRUNC");
    close(fd);
    fd = at_open("append_writev", O_WRONLY | O_APPEND);
    struct iovec iov[2] = {{buf, 1000}, {buf, 2000}};
    if (writev(fd, iov, 2) != 3000 || dprintf(fd, "%s\n", "dprintf line") <= 0) die("writev, dprintf");
    close(fd);
    int src = at_open("source", O_RDONLY), out = at_open("copied", O_WRONLY);  /* not O_APPEND: EBADF */
    if (lseek(out, 0, SEEK_END) < 0 || copy_file_range(src, NULL, out, NULL, 5000, 0) != 5000) die("copy_file_range");
    if (lseek(src, 0, SEEK_SET) != 0 || sendfile(out, src, NULL, 4000) != 4000) die("sendfile");
    close(src);
    close(out);
    ready_and_wait(argv[2]);
}
"""
GROWN = ["pwrite_beyond", "ftruncate_up", "fallocate_up", "seek_hole", "shrink_then_write", "reopened_trunc",
         "append_writev", "copied"]


def job_files(job_path):
    """{name: sha256} of everything in the job directory but its status and lock."""
    out = {}
    for n in sorted(os.listdir(job_path)):
        p = os.path.join(job_path, n)
        if n in ("status", "lock") or not os.path.isfile(p):
            continue
        with open(p, "rb") as f:
            out[n] = hashlib.sha256(f.read()).hexdigest()
    return out


def run_until_killed(h, job, exe, work, foreign):
    ready1, ready2 = h.path(f"{job}.ready1"), h.path(f"{job}.ready2")
    argv = [exe, work, ready1, ready2]
    launcher = h.start(job, argv, h.make_output(f"{job}.out"), interval="1h")

    def exists(p):
        def cond():
            if launcher.poll() is not None:
                raise ckpt_harness.TestFailure(f"ckpt-run exited with {launcher.rc}; log:\n{launcher.log_text()}")
            return os.path.exists(p)
        return cond
    h.poll(exists(ready1), f"{job}: the program to append after its checkpoint")
    logp = os.path.join(work, "app.log")
    if foreign:
        r = subprocess.run(["/bin/sh", "-c", f"printf '%s' '{FOREIGN.decode()}' >> '{logp}'"])
        check(r.returncode == 0, "the other process could not append")
    cc.write_file(os.path.join(work, "go"), b"")
    h.poll(exists(ready2), f"{job}: the program to append again")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill; log:\n{launcher.log_text()}")
    os.unlink(os.path.join(work, "go"))
    return argv, launcher.job_path, logp


def scenario(h, exe, job, foreign):
    work = h.path(f"work-{job}")
    os.makedirs(work)
    argv, job_path, logp = run_until_killed(h, exe=exe, job=job, work=work, foreign=foreign)
    return argv, job_path, logp, cc.read_file(logp)


def body(h):
    exe = cc.build(h, "foreign_appender", SOURCE)

    # Refused, nothing changed.
    argv, job_path, logp, killed = scenario(h, exe, "refuse", foreign=True)
    check(FOREIGN in killed, "the other process's line is not in the log")
    files = job_files(job_path)
    check(any(n.startswith("ckpt-") for n in files), f"no image in {job_path}: {sorted(files)}")
    rc, err = h.run_to_exit("refuse", argv, h.make_output("refuse.2.out"), interval="1h")
    check(rc == EXIT_FOREIGN_APPENDS, f"the rerun exited with {rc}, not {EXIT_FOREIGN_APPENDS}; log:\n{err}")
    msgs = [l for l in err.splitlines() if "another process" in l]
    check(len(msgs) == 1 and logp in msgs[0], f"no one message naming {logp} and another process; log:\n{err}")
    sizes = f"had {len(BEFORE)} bytes" in msgs[0] and f"has {len(killed)} now" in msgs[0]
    check(sizes, f"the message does not give the byte counts ({len(BEFORE)} then, {len(killed)} now):\n{msgs[0]}")
    check(cc.read_file(logp) == killed, f"the refused recovery changed the log: {cc.read_file(logp)!r}")
    check(job_files(job_path) == files, "the refused recovery changed the job directory: "
          f"{files} -> {job_files(job_path)}")
    log(f"refused with exit 85, the log and the job directory untouched: {msgs[0]}")

    # The same job, told to proceed: recovers and keeps the bytes.
    rc, err = h.run_to_exit("refuse", argv, h.make_output("refuse.3.out"), interval="1h",
                            extra=["--on-undo-failure=proceed"])
    check(rc == 0, f"the recovery with --on-undo-failure=proceed exited with {rc}; log:\n{err}")
    check("restored from checkpoint version" in err, f"the proceed run did not recover the job; log:\n{err}")
    now = cc.read_file(logp)
    check(now == killed, f"with proceed the log is {now!r}, not all of its {len(killed)} bytes")
    log("--on-undo-failure=proceed: recovered, the other process's bytes kept")

    # Control: the program alone: recovered as before, the log cut back to the checkpoint.
    argv, job_path, logp, killed = scenario(h, exe, "control", foreign=False)
    rc, err = h.run_to_exit("control", argv, h.make_output("control.2.out"), interval="1h")
    check(rc == 0, f"the control recovery exited with {rc}; log:\n{err}")
    check("restored from checkpoint version" in err, f"the control rerun did not recover the job; log:\n{err}")
    check(cc.read_file(logp) == BEFORE, f"after the control recovery the log is {cc.read_file(logp)!r}")
    log("control: no foreign append, the log rolled back to its checkpoint size")

    exe = cc.build(h, "own_grower", GROWER)
    work = h.path("work-grow")
    os.makedirs(work)
    originals = {n: bytes([65 + i]) * (1000 + 7 * i) for i, n in enumerate(GROWN)}
    originals["source"] = b"s" * 9000
    originals["seek_hole"] = originals["shrink_then_write"] = b""
    for n, d in originals.items():
        cc.write_file(os.path.join(work, n), d)
    cc.changed_after_checkpoint(h, "grow", exe, work)
    for n, d in originals.items():
        now = cc.read_file(os.path.join(work, n))
        check(now == d, f"after the recovery {n} holds {len(now)} bytes, not its {len(d)} of the checkpoint")
    log("control: every kind of own growth recovered, none taken for another process's")


if __name__ == "__main__":
    ckpt_harness.main("correctness_foreign_appends", body)
