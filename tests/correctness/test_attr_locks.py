#!/usr/bin/python3
"""Issue 9, item 9: file locks held at the checkpoint are held again after a restore: a flock (exclusive),
an fcntl write lock on bytes 0-9 and an OFD read lock on bytes 5-14, as another process sees
them (flock LOCK_NB fails, F_OFD_GETLK reports the conflict). `ckptctl inspect` lists the three
locks (table and --json)."""
import attrs_common
from ckpt_harness import check


def shown(j, text):
    locks = [(l["kind"], l["type"], l["start"], l["len"]) for l in j["attributes"]["file_locks"]]
    check(locks == [("flock", "write", 0, 0), ("fcntl", "write", 0, 10), ("OFD", "read", 5, 10)],
          f"ckptctl inspect --json shows the locks {locks}")
    check("File locks (3)" in text and "OFD    read   5-14" in text, f"ckptctl inspect's table:\n{text}")


attrs_common.one("locks", shown)
