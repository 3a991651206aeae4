"""ckptctl cps: `serve` runs a single-member etcd the library then uses; `list`, `show`,
`sections` show what is stored; `rm` deletes; each failure has its own exit code (66: no such
checkpoint, 69: etcd unreachable) and message."""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

from cps_common import args, poll_until
from etcd_cluster import free_ports


def main():
    a = args()
    ckptctl = a.ckptctl
    tmp = tempfile.mkdtemp(prefix="ckpt-cps-ctl-")
    client, peer = free_ports(2)
    url = f"http://127.0.0.1:{client}"
    env = dict(os.environ, CKPT_CPS_ENDPOINTS=url, CKPT_DIR=tmp)
    server = subprocess.Popen([ckptctl, "cps", "serve", "--data-dir", os.path.join(tmp, "etcd"), "--listen", url,
                               "--peer", f"http://127.0.0.1:{peer}"], stderr=subprocess.DEVNULL)

    def ctl(*argv, code=0):
        r = subprocess.run([ckptctl, "cps", *argv], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == code, f"ckptctl cps {argv}: exit {r.returncode}, wanted {code}: {r.stderr}"
        return r.stdout + r.stderr

    try:
        def up():
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    return True
            except OSError:
                return False
        poll_until(up, 30, "ckptctl cps serve's etcd")
        name = f"ctl-{random.randrange(1 << 30)}"
        subprocess.run([a.peer, "create", name, "600000", "alpha", "600000"], env=env, check=True, timeout=30)
        out = ctl("list")
        assert name in out and "sync" in out, out
        out = ctl("show", name)
        assert "maxSections        4" in out and "openers            0" in out, out
        out = ctl("sections", name)
        assert "alpha" in out and "valid" in out, out
        assert "no checkpoint named" in ctl("show", "missing-" + name, code=66)
        assert "no checkpoint named" in ctl("rm", "missing-" + name, code=66)
        assert "deleted checkpoint" in ctl("rm", name)
        assert name not in ctl("list")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        env["CKPT_CPS_TIMEOUT_MS"] = "500"
        out = ctl("list", code=69)
        assert "no etcd member reachable" in out, out
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
