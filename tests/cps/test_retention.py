"""Retention and expiry on etcd leases (one loopback member):
- a checkpoint closed by its last opener is still there right after the close and gone once
  its retention duration (2 s) has passed;
- a checkpoint held open by another process outlives its retention duration many times over,
  and disappears that long after that process is SIGKILLed (its handles close with it);
- a section disappears after its expiration time (2 s from creation), its checkpoint stays."""
import random
import subprocess
import sys
import time

from cps_common import Peer, args, etcd_get, poll_until
from etcd_cluster import EtcdCluster


def probe(a, ep, name, section=None):
    """Is the checkpoint (and its section) in etcd? Looked up directly: opening it through the
    API would restart its retention time."""
    inst = etcd_get(ep, "/ckpt/cps/name/" + name)
    if inst is None:
        return False
    if section is None:
        return True
    return etcd_get(ep, f"/ckpt/cps/ckpt/{inst}/sec/x" + section.encode().hex()) is not None


def create(a, ep, name, retention_ms, section=None, expiry_ms=0):
    argv = [a.peer, "create", name, str(retention_ms)] + ([section, str(expiry_ms)] if section else [])
    subprocess.run(argv, env={"CKPT_CPS_ENDPOINTS": ep}, check=True, timeout=30)


def main():
    a = args()
    with EtcdCluster(1) as cluster:
        ep = cluster.endpoints
        tag = random.randrange(1 << 30)

        closed = f"retention-closed-{tag}"
        t0 = time.monotonic()
        create(a, ep, closed, 2000)
        assert probe(a, ep, closed), "gone right after its close"
        poll_until(lambda: not probe(a, ep, closed), 15, "the closed checkpoint to expire")
        took = time.monotonic() - t0
        assert took >= 2.0, f"gone after {took:.1f}s, before its retention of 2 s"
        print(f"closed checkpoint gone after {took:.1f}s (retention 2 s)", flush=True)

        held = f"retention-held-{tag}"
        create(a, ep, held, 2000)
        holder = Peer(a.peer, ["hold", held], ep)
        try:
            holder.wait_for(lambda l: "ready" in l)
            end = time.monotonic() + 8  # four retention durations
            while time.monotonic() < end:
                assert probe(a, ep, held), "an open checkpoint expired"
                time.sleep(0.5)  # sampling across a duration, not synchronisation
            holder.kill()
            t1 = time.monotonic()
            poll_until(lambda: not probe(a, ep, held), 20, "the checkpoint of the killed holder to expire")
            print(f"held checkpoint kept 8 s; gone {time.monotonic() - t1:.1f}s after its holder was killed", flush=True)
        finally:
            holder.kill()

        sec = f"expiry-{tag}"
        t2 = time.monotonic()
        create(a, ep, sec, 600000, "short", 2000)
        assert probe(a, ep, sec, "short"), "the section is gone at once"
        poll_until(lambda: not probe(a, ep, sec, "short"), 15, "the section to expire")
        took = time.monotonic() - t2
        assert took >= 2.0, f"section gone after {took:.1f}s, before its expiration"
        assert probe(a, ep, sec), "the checkpoint went with its section"
        print(f"section gone after {took:.1f}s (expiration 2 s), checkpoint still there", flush=True)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
