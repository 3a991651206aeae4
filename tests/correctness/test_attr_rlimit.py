#!/usr/bin/python3
"""Issue 9, item 9: resource limits the program set (RLIMIT_NOFILE 512/1024, RLIMIT_CORE 0/4 MiB) are
the restored program's, not the new launcher's."""
import attrs_common

attrs_common.one("rlimit")
