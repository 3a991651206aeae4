"""What the trust-and-safety tests share beyond the end-to-end harness.

  * other_user(): a second, unprivileged user (created with useradd when run as root), or
    exit 77 (ctest: skipped) with the reason printed;
  * as_user(): preexec_fn that drops to that user, for subprocess;
  * tree_snapshot(): every file below a directory with its bytes, mode and owner, to check
    that ckpt touched nothing it does not own;
  * ckptctl(): path of the ckptctl next to ckpt-run.
"""
import os
import pwd
import stat
import subprocess
import sys

SKIP = 77
OTHER_USER = "ckpttest"


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def other_user():
    """(uid, gid) of an unprivileged second user; creates it if we are root."""
    try:
        pw = pwd.getpwnam(OTHER_USER)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        pass
    if os.geteuid() != 0:
        skip(f"needs a second user: run as root (to useradd {OTHER_USER}) or create {OTHER_USER} first")
    r = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER],
                       capture_output=True, text=True)
    if r.returncode not in (0, 9):  # 9: it exists (created meanwhile by a parallel test)
        skip(f"useradd {OTHER_USER} failed: {r.stderr.strip()}")
    pw = pwd.getpwnam(OTHER_USER)
    return pw.pw_uid, pw.pw_gid


def as_user(uid, gid):
    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return drop


def tree_snapshot(root):
    """{relative path: (kind, mode, uid, bytes or link target)} of everything below root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", st.st_mode, st.st_uid, os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    out[rel] = ("file", st.st_mode, st.st_uid, f.read())
            else:
                out[rel] = ("other", st.st_mode, st.st_uid, None)
    return out


def ckptctl(h):
    return os.path.join(os.path.dirname(h.ckpt_run), "ckptctl")
