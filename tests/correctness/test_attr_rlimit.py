#!/usr/bin/python3
"""Issue 9, item 9: resource limits the program set (RLIMIT_NOFILE 512/1024, RLIMIT_CORE 0/4 MiB) are
the restored program's, not the new launcher's. `ckptctl inspect --json` shows them."""
import attrs_common
from ckpt_harness import check


def shown(j, text):
    r = j["attributes"]["rlimits"]
    check(r["RLIMIT_NOFILE"] == {"soft": 512, "hard": 1024} and r["RLIMIT_CORE"]["soft"] == 0,
          f"ckptctl inspect --json: {r['RLIMIT_NOFILE']}, {r['RLIMIT_CORE']}")
    check("NOFILE" in text and "512" in text, f"ckptctl inspect's table:\n{text}")


attrs_common.one("rlimit", shown)
