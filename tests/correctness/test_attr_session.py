#!/usr/bin/python3
"""Issue 9, item 9: a program that made itself a session leader (setsid) is the leader of its own session
and process group after a restore."""
import attrs_common

attrs_common.one("session")
