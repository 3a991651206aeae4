#!/usr/bin/python3
"""Issue 9, item 9: no_new_privs set by the program (PR_SET_NO_NEW_PRIVS) is set after a
restore."""
import attrs_common

attrs_common.one("no_new_privs")
