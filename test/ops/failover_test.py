#!/usr/bin/env python3
"""Leader election with nothing lost (issue 14): two replicas of the host with --leader-elect
(lease 4 s, renew deadline 3 s, retry 0.5 s) run the ring and the replicator while the
workload writes. The leader is killed with SIGKILL (a supervisor restarts it after 1 s, as a
Deployment would); another replica must hold the Lease within the lease duration plus 2.2
retry periods (and 1 s of slack). Then the replica leading gets SIGTERM: it must release the
Lease and the other must hold it within 2 s. At the end every ring round and every replicated
change must have arrived (the chaos suite's checker: 0 lost).

  /usr/bin/python3 test/ops/failover_test.py BUILD KUBE_BIN"""
import sys
import threading
import time

import harness
from checker import await_convergence

LEASE_S, RENEW_S, RETRY_S = 4.0, 3.0, 0.5
LEASE_NAME = "ops-failover"
LEASE_PATH = harness.lease_path(LEASE_NAME)
ELECTION = ["--leader-elect", "on", "--leader-election-id", LEASE_NAME, "--leader-election-namespace", "default",
            "--leader-elect-lease-duration", f"{int(LEASE_S * 1000)}ms",
            "--leader-elect-renew-deadline", f"{int(RENEW_S * 1000)}ms",
            "--leader-elect-retry-period", f"{int(RETRY_S * 1000)}ms",
            "--metrics-bind-address", "0", "--health-probe-bind-address", "0"]


def holder(api):
    return harness.lease_holder(api, LEASE_PATH)


def wait_holder(api, predicate, timeout):
    return harness.wait_lease_holder(api, LEASE_PATH, predicate, timeout, interval=0.05)


identity = harness.campaign_identity


def rounded(seconds):
    return None if seconds is None else round(seconds, 2)


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    checks = harness.Checks()
    env = harness.Environment(build, kube_bin, "ops-failover")
    try:
        env.api.request("DELETE", LEASE_PATH, ok=(200, 202, 404))
    except Exception:  # noqa: BLE001 - a lease left by an earlier run is gone or never was
        pass
    workload = env.workload(n=3, sources=2, rounds=24, changes=120, window_s=16.0)
    hosts = {name: env.host(name, ELECTION) for name in ("a", "b")}
    for h in hosts.values():
        h.start()
    try:
        ok, startup = workload.wait_ready(90)
        checks.check("one replica leads and carries round 1 and the first copies", ok, f"{startup:.1f} s")
        ids = {name: harness.eventually(lambda h=h: identity(h), 30) for name, h in hosts.items()}
        leader_id = holder(env.api)
        leader = next((n for n, i in ids.items() if i == leader_id), None)
        if not checks.check("the Lease holder is one of the two replicas", leader is not None, (leader_id, ids)):
            return checks.finish()
        follower = "b" if leader == "a" else "a"
        checks.check("the follower did not lead", not hosts[follower].log_grep("became the leader"),
                     hosts[follower].log_tail(5))

        workload.start()
        time.sleep(2)
        hosts[leader].kill9()
        takeover_s, new_holder = wait_holder(env.api, lambda h: h and h != leader_id, LEASE_S + 10)
        bound = LEASE_S + 2.2 * RETRY_S + 1.0
        checks.check(f"after kill -9 another replica holds the Lease within {bound:.1f} s",
                     takeover_s is not None and takeover_s <= bound, f"{takeover_s} s, holder {new_holder!r}")
        print(f"     takeover after kill -9: {rounded(takeover_s)} s (lease {LEASE_S} s, retry {RETRY_S} s)")

        now_leading = next((n for n, h in hosts.items() if identity(h) == new_holder), None)
        if checks.check("the new holder is a live replica", now_leading is not None, (new_holder, ids)):
            other = "b" if now_leading == "a" else "a"
            # The other replica (the killed one, restarted) campaigns before the leader stops.
            harness.eventually(lambda: identity(hosts[other]) not in (None, leader_id), 15)
            time.sleep(1)
            stopper = threading.Thread(target=hosts[now_leading].stop)
            stopper.start()
            handover_s, final_holder = wait_holder(env.api, lambda h: h and h != new_holder, 10)
            stopper.join(30)
            checks.check("after SIGTERM the other replica holds the Lease within 2 s",
                         handover_s is not None and handover_s < 2.0, f"{handover_s} s, holder {final_holder!r}")
            print(f"     handover after SIGTERM: {rounded(handover_s)} s")
            checks.check("the terminated leader exited 0", hosts[now_leading].proc.returncode == 0,
                         hosts[now_leading].log_tail(5))
            checks.check("it said it was shutting down", bool(hosts[now_leading].log_grep("shutting down")),
                         hosts[now_leading].log_tail(5))

        workload.join()
        converge_s, result = await_convergence(env.api, workload, workload.done_at, 60)
        checks.check("every ring round and replicated change arrived (0 lost)", result["lost"] == 0, result)
        print(f"     converged {rounded(converge_s)} s after the workload; rounds {result['final_nonce']}, "
              f"replicator changes {result['replicator_changes']}, duplicates {result['duplicates']}")
        killed = hosts[leader]
        checks.check("the killed leader was restarted and did not crash",
                     killed.starts >= 2 and not killed.crashes, (killed.starts, killed.crashes))
    finally:
        for h in hosts.values():
            h.stop()
        workload.stop()
    checks.finish()


if __name__ == "__main__":
    main()
