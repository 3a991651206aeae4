#!/usr/bin/python3
"""Issue 9, item 9: a program that gave up root (supplementary groups 65534 and 100, gids 65534, uids
65534/0/65534: real and saved 65534, effective 0 so that it can still write its job directory)
comes back with exactly those ids, not as uid 0 with the launcher's groups. Needs root (exit 77 otherwise)."""
import os

import attrs_common
import security_common

if os.geteuid() != 0:
    security_common.skip("needs root: the probe gives up privileges it must have had")
attrs_common.one("creds")
