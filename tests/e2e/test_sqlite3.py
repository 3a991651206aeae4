#!/usr/bin/python3
"""sqlite3 (in-memory database) running a long recursive CTE, killed 3 times and resumed."""
import ckpt_harness

N = 20_000_000
QUERY = f"""
WITH RECURSIVE c(i, x) AS (
  SELECT 1, 1
  UNION ALL
  SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM c WHERE i < {N}
)
SELECT i, x FROM c WHERE i % 100000 = 0;
"""


def body(h):
    argv = [h.which("sqlite3"), "-batch", ":memory:", QUERY]
    h.kill_and_resume(argv)


ckpt_harness.main("sqlite3", body)
