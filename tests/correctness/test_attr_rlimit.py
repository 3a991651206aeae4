#!/usr/bin/python3
"""Issue 9, item 9: resource limits the program set (RLIMIT_NOFILE 512/1024, RLIMIT_CORE 0/4 MiB) are
the restored program's, not the new launcher's. `ckptctl inspect --json` shows them, as set
by the program (RLIMIT_STACK, left as given, is the environment's). Limits the program left
as it was given follow the new environment: the premature-exit example, resumed without its
`ulimit -v`, checks that."""
import attrs_common
from ckpt_harness import check


def shown(j, text):
    r = j["attributes"]["rlimits"]
    check(r["RLIMIT_NOFILE"] == {"soft": 512, "hard": 1024, "set_by_program": True} and r["RLIMIT_CORE"]["soft"] == 0
          and not r["RLIMIT_STACK"]["set_by_program"],
          f"ckptctl inspect --json: {r['RLIMIT_NOFILE']}, {r['RLIMIT_CORE']}")
    check("NOFILE" in text and "512" in text, f"ckptctl inspect's table:\n{text}")


attrs_common.one("rlimit", shown)
