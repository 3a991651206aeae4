#!/usr/bin/python3
"""mawk running a linear congruential generator loop, killed 3 times and resumed."""
import ckpt_harness

PROGRAM = """
BEGIN {
  x = 1
  for (i = 1; i <= n; i++) {
    x = (x * 69069 + 1) % 4294967296
    if (i % 200000 == 0) printf "%d %.0f\\n", i, x
  }
  printf "final %.0f\\n", x
}
"""


def body(h):
    argv = [h.which("mawk"), "-v", "n=40000000", PROGRAM]
    h.kill_and_resume(argv)


ckpt_harness.main("awk", body)
