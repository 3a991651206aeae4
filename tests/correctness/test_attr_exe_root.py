#!/usr/bin/python3
"""Issue 9, item 9: /proc/self/exe of a program restored by root is the program's executable
(root may set the exe link: PR_SET_MM_MAP with exe_fd)."""
import attrs_common

attrs_common.one("exe")
