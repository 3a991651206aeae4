#!/usr/bin/python3
"""Issue 9, item 9: the program's own parent-death signal (PR_SET_PDEATHSIG SIGUSR1) is what
PR_GET_PDEATHSIG shows after a restore, although ckpt arms the kernel's with its checkpoint
signal."""
import attrs_common

attrs_common.one("pdeathsig")
