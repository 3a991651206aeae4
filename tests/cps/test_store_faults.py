"""Store faults on a three-member loopback etcd while a synchronous writer writes section "seq"
in a loop and a standby watches it (immediate consumption).

1. One member at a time is SIGKILLed and restarted, repeatedly: writes go on (more are
   acknowledged while it is down), and the standby's notifications continue.
2. Two members are SIGKILLed: writes fail with CL_CKPT_ERR_TIMEOUT and a message naming the
   lost quorum, no write is acknowledged while they are down, and writes succeed again once
   one member is back.
Throughout: every acknowledged value reaches the standby (nothing acknowledged is lost) and
the standby's values never go back."""
import random
import sys
import time

from cps_common import Peer, args
from etcd_cluster import EtcdCluster

TIMEOUT_MS = 3000


def last(peer, tag):
    v = peer.values(tag)
    return v[-1] if v else 0


def main():
    a = args()
    with EtcdCluster(3) as cluster:
        name = f"faults-{random.randrange(1 << 30)}"
        env = {"CKPT_CPS_TIMEOUT_MS": str(TIMEOUT_MS), "CKPT_CPS_ATTEMPT_MS": "1000"}
        standby = Peer(a.peer, ["standby", name, "sync"], cluster.endpoints, env)
        active = Peer(a.peer, ["standby", name, "sync"], cluster.endpoints, env)
        try:
            standby.wait_for(lambda l: "ready" in l)
            active.wait_for(lambda l: "ready" in l)
            active.send("promote")
            active.wait_for(lambda l: any(x.startswith("ack ") for x in l))

            def acks_beyond(n, timeout=60):
                target = last(active, "ack") + n
                active.wait_for(lambda l: last(active, "ack") >= target, timeout)

            # 1. One member down at a time.
            for _ in range(4):
                acks_beyond(random.randint(5, 30))
                victim = random.choice(cluster.alive())
                cluster.kill(victim)
                acks_beyond(10)  # writes continue with two of three members
                cluster.start(victim)
                cluster.wait_healthy([victim])
            print(f"single-member faults: acknowledged up to {last(active, 'ack')}", flush=True)

            # 2. Two members down: no quorum.
            acks_beyond(5)
            down = random.sample(cluster.alive(), 2)
            for m in down:
                cluster.kill(m)
            killed_at = time.monotonic()
            active.wait_for(lambda l: any(x.startswith("fail ") for x in l), TIMEOUT_MS / 1000 * 3 + 10)
            first_fail = time.monotonic() - killed_at
            fails = [x for x in active.lines if x.startswith("fail ")]
            code = fails[0].split()[2]
            assert code == "0x1500000f", f"expected CL_CKPT_ERR_TIMEOUT, got {fails[0]}"
            assert "quorum" in fails[0], f"the message does not say why: {fails[0]}"
            acks_when_failing = len(active.values("ack"))
            # Several more time-outs, and not one acknowledgement meanwhile.
            n_fail = len(fails)
            active.wait_for(lambda l: sum(x.startswith("fail ") for x in l) >= n_fail + 2, TIMEOUT_MS / 1000 * 4 + 10)
            assert len(active.values("ack")) == acks_when_failing, "a write was acknowledged without a quorum"
            print(f"two members down: first failure after {first_fail:.1f}s: {fails[0]}", flush=True)
            cluster.start(down[0])
            acks_beyond(5, 60)
            print(f"one member back: acknowledged up to {last(active, 'ack')}", flush=True)
            cluster.start(down[1])
            cluster.wait_healthy(cluster.names)

            active.kill()
            acked = set(active.values("ack"))
            top = max(acked)
            standby.wait_for(lambda l: any(x.startswith("seen ") and int(x.split()[1]) >= top for x in l), 30)
            seen = standby.values("seen")
            unread = [x for x in standby.lines if x.startswith("unread ")]
            lost = sorted(acked - set(seen))
            assert not unread, f"the standby could not read notified changes: {unread[:3]}"
            assert not lost, f"acknowledged but never seen by the standby: {lost[:10]}"
            assert all(b >= a for a, b in zip(seen, seen[1:])), "the standby's values went back"
            print(f"{len(acked)} acknowledged writes, all seen by the standby", flush=True)
        finally:
            active.kill()
            standby.kill()
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
