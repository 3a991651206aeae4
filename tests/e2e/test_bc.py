#!/usr/bin/python3
"""bc -l computing pi to increasing precision (4*a(1)), killed 3 times and resumed."""
import ckpt_harness

PROGRAM = """
for (k = 1; k <= 4; k++) {
  scale = 650 * k
  print "pi to ", scale, " digits:\\n"
  4 * a(1)
}
quit
"""


def body(h):
    src = h.path("pi.bc")
    with open(src, "w") as f:
        f.write(PROGRAM)
    argv = [h.which("bc"), "-lq", src]
    h.kill_and_resume(argv)


ckpt_harness.main("bc", body)
