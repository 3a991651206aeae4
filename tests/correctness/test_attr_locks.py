#!/usr/bin/python3
"""Issue 9, item 9: file locks held at the checkpoint are held again after a restore: a flock (exclusive),
an fcntl write lock on bytes 0-9 and an OFD read lock on bytes 5-14, as another process sees
them (flock LOCK_NB fails, F_OFD_GETLK reports the conflict)."""
import attrs_common

attrs_common.one("locks")
