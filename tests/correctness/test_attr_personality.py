#!/usr/bin/python3
"""Issue 9, item 9: the personality flags the program set (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC) are
the restored program's."""
import attrs_common

attrs_common.one("personality")
