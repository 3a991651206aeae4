#!/usr/bin/python3
"""Issue 9, item 9: /proc/self/exe of a program restored by an unprivileged user (ckpttest,
without CAP_CHECKPOINT_RESTORE, so the kernel refuses to set the exe link) is the program's
executable, not ckpt-restore: the restore runs in a process exec'd from that executable
(launcher/restorer/exe_link.h), and no warning says otherwise. Skipped (77) without a second
user."""
import ckpt_harness
import security_common
from ckpt_harness import check, log
from attrs_common import Probe


def body(h):
    user = security_common.other_user()
    p = Probe(h, "exe", job="exe-user", user=user)
    p.checkpoint_and_kill()
    rc, out, err = p.rerun()
    check("restored from checkpoint version" in err, f"not restored; log:\n{err}")
    check(rc == 0 and out.startswith("OK "), f"exit {rc}, probe said {out.strip()!r}; log:\n{err}")
    check("will show ckpt-restore" not in err, f"the restorer warns about the exe link:\n{err}")
    log(out.strip())


ckpt_harness.main("attr_exe_unprivileged", body)
