#!/usr/bin/python3
"""perl reaping its children (waitpid(-1, WNOHANG), wait(), a SIGCHLD handler) while it is
checkpointed by forked writers: it never sees a child or a SIGCHLD, because the writer is the
launcher's child (CLONE_PARENT), not the program's. FORK_MODE=nofork runs the same with --no-fork
and checks that no checkpoint was forked."""
import os
import re

import ckpt_harness
from ckpt_harness import check, log

CODE = r"""
use strict; use warnings; use POSIX ":sys_wait_h"; use Time::HiRes qw(sleep);
my ($chld, $seen, $waited) = (0, 0, 0);
$SIG{CHLD} = sub { $chld++ };
for my $i (1 .. $ARGV[0]) {
    my $r = waitpid(-1, WNOHANG); $seen++ if $r > 0;
    my $w = wait(); $waited++ if $w > 0;
    sleep(0.01);
}
print "waitpid saw $seen, wait saw $waited, SIGCHLD $chld\n";
"""


def body(h):
    nofork = os.environ.get("FORK_MODE") == "nofork"
    out = h.make_output()
    argv = [h.which("perl"), "-e", CODE, "400"]
    launcher = h.start("job", argv, out, interval="200ms", extra=["--keep", "--max-overhead", "0"] +
                       (["--no-fork"] if nofork else []))
    rc = launcher.wait(120)
    text = launcher.log_text()
    check(rc == 0, f"ckpt-run exited with {rc}; log:\n{text}")
    result = ckpt_harness.read_bytes(out).decode()
    check(result == "waitpid saw 0, wait saw 0, SIGCHLD 0\n", f"perl saw a child: {result!r}")
    committed = len(re.findall(r"checkpoint version \d+ committed", text))
    forked = text.count("by a forked writer")
    check(committed >= 3, f"only {committed} checkpoints committed; log:\n{text}")
    if nofork:
        check(forked == 0, f"{forked} checkpoints were forked despite --no-fork; log:\n{text}")
    else:
        check(forked == committed, f"{committed - forked} of {committed} checkpoints were not forked; log:\n{text}")
    log(f"{committed} checkpoints ({forked} forked); perl saw no child and no SIGCHLD")


ckpt_harness.main("fork_wait", body)
