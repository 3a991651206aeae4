#!/usr/bin/python3
"""Issue 9, item 9: capabilities the program changed (CAP_NET_RAW dropped from its effective and permitted
sets, CAP_CHOWN added to the inheritable set, CAP_MKNOD dropped from the bounding set) are
the restored program's. Needs root (exit 77 otherwise)."""
import os

import attrs_common
import security_common

if os.geteuid() != 0:
    security_common.skip("needs root: the probe gives up privileges it must have had")
attrs_common.one("caps")
