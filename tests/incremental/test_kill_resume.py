#!/usr/bin/python3
"""A real program (perl building and rewriting a large hash, so that most of its heap stays
unchanged between checkpoints) with incremental images (the default): killed after an
incremental image exists, resumed from it, killed again and resumed; the output is
byte-identical to an uninterrupted run."""
import os

import ckpt_harness
from ckpt_harness import check, log, read_bytes, EXIT_KILLED, RESTORED_RE
import incr_common as ic

CODE = r"""
use strict; use warnings; use Digest::MD5 qw(md5_hex);
my ($n, $rounds) = @ARGV; my %h; my $x = "ckpt";
for my $i (1 .. $n) { $h{$i} = md5_hex("v$i") x 4; }
for my $r (1 .. $rounds) {
    for my $k (1 .. 2000) { $x = md5_hex($x . $r . $k); $h{1 + hex(substr($x, 0, 6)) % $n} = $x x 4; }
    print "$r $x\n";
}
my $sum = ""; for my $i (1 .. $n) { $sum = md5_hex($sum . $h{$i}) if $i % 1000 == 0; }
print "final $x $sum\n";
"""


def body(h):
    argv = [h.which("perl"), "-e", CODE, "200000", "1000"]
    reference, _ = h.reference(argv)
    out = h.make_output()
    root = h.path("ckpt")
    job = os.path.join(root, "job")
    restored = []
    for attempt in range(3):
        before = h.versions(job)
        launcher = h.start("job", argv, out, interval="300ms", root=root)
        if attempt:
            m = h.wait_for_log(launcher, RESTORED_RE.pattern, "the restore log line")
            check(int(m.group(1)) == before[-1], f"restored {m.group(1)}, newest was {before[-1]}")
            restored.append(int(m.group(1)))
        if attempt == 2:
            break

        def incremental_above():
            vs = h.versions(job)
            if not vs or (before and vs[-1] <= before[-1]):
                return None
            chain = ic.chain_of(h, root)
            newest = max(chain) if chain else 0
            return newest if newest and chain[newest].startswith("+") else None
        v = h.poll(incremental_above, "an incremental image newer than the last restore", timeout=120, interval=0.1)
        rc = h.kill_program(launcher)
        check(rc == EXIT_KILLED, f"ckpt-run exited with {rc} after the kill; log:\n{launcher.log_text()}")
        log(f"kill {attempt + 1}: the newest version {v} is incremental ({ic.chain_of(h, root).get(v)})")
    rc = launcher.wait(300)
    check(rc == 0, f"final run exited with {rc}; log:\n{launcher.log_text()}")
    actual = read_bytes(out)
    check(actual == reference, "output differs from the uninterrupted run: " +
          ckpt_harness.describe_difference(reference, actual))
    log(f"restored from incremental versions {restored}; output identical ({len(actual)} bytes)")


ckpt_harness.main("incr_kill_resume", body)
