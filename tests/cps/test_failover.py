"""Failover: an active process writes section "seq" in a loop while a standby has registered
for immediate consumption; the active one is SIGKILLed at random moments and the standby
takes over, again and again, for a synchronous checkpoint and for an asynchronous collocated
one (clCkptCheckpointSynchronize every 5 writes), on a three-member loopback etcd.

Checks: every standby is notified of every value acknowledged (synchronized) before the kill;
every standby saw each committed value once, in order, with no gap (its "seen" list
goes up by exactly one); every new active took over at or after the last value its
predecessors had acknowledged (synchronous) or synchronized (asynchronous); the last standby
ends with the last value taken over or written."""
import random
import sys

from cps_common import Peer, args, contiguous
from etcd_cluster import EtcdCluster


def run(a, cluster, mode, rounds):
    name = f"failover-{mode}-{random.randrange(1 << 30)}"
    ep = cluster.endpoints
    peers = []
    try:
        active = Peer(a.peer, ["standby", name, mode, "5"], ep)
        peers.append(active)
        active.wait_for(lambda l: "ready" in l)
        active.send("promote")
        standby = None
        durable = 0  # the highest value acknowledged (sync) or synchronized (async) so far
        tag = "ack" if mode == "sync" else "synced"
        for r in range(rounds):
            standby = Peer(a.peer, ["standby", name, mode, "5"], ep)
            peers.append(standby)
            standby.wait_for(lambda l: "ready" in l)
            start = active.wait_for(lambda l: [x for x in l if x.startswith("start ")])[0]
            base = int(start.split()[1])
            assert base >= durable, f"{mode}: took over at {base}, but {durable} was {tag}ed before"
            # A random moment: after a random number of writes the standby has been there for.
            target = max([base] + active.values("ack")) + random.randint(3, 40)
            # (asynchronous: a synchronized one, so that the standby has something to see; the
            # writes after it are in flight at the kill)
            active.wait_for(lambda l: any(x.startswith(tag + " ") and int(x.split()[1]) >= target for x in l), 60)
            active.kill()
            acked = active.values(tag)
            durable = max([durable] + acked)
            # Every acknowledged (synchronized) write reaches the standby's callbacks.
            standby.wait_for(lambda l: any(x.startswith("seen ") and int(x.split()[1]) >= durable for x in l), 30)
            standby.send("promote")
            active = standby
        final = active.wait_for(lambda l: [x for x in l if x.startswith("start ")])[0]
        assert int(final.split()[1]) >= durable, f"{mode}: last take-over at {final}, {durable} was {tag}ed"
        for p in peers[1:]:
            seen = p.values("seen")
            assert seen, f"{mode}: a standby saw nothing"
            assert contiguous(seen), f"{mode}: a standby saw {seen} (gap, repeat or disorder)"
        print(f"{mode}: {rounds} fail-overs, durable up to {durable}, last take-over at {final.split()[1]}", flush=True)
    finally:
        for p in peers:
            p.kill()


def main():
    a = args()
    with EtcdCluster(3) as cluster:
        run(a, cluster, "sync", 5)
        run(a, cluster, "async", 5)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
