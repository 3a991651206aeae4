#!/usr/bin/python3
"""perl computing an MD5 hash chain (Digest::MD5, core), killed 3 times and resumed."""
import ckpt_harness

CODE = r"""
use strict; use warnings; use Digest::MD5 qw(md5_hex);
my ($n, $every) = @ARGV; my $h = "ckpt";
for my $i (1 .. $n) { $h = md5_hex($h . $i); print "$i $h\n" if $i % $every == 0; }
print "final $h\n";
"""


def body(h):
    argv = [h.which("perl"), "-e", CODE, "18000000", "40000"]
    h.kill_and_resume(argv)


ckpt_harness.main("perl", body)
