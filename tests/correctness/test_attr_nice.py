#!/usr/bin/python3
"""Issue 9, item 9: the nice value the program set (7) is the restored program's."""
import attrs_common

attrs_common.one("nice")
