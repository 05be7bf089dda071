#!/usr/bin/env python3
"""Sharding with nothing lost (issue 14): three replicas of the host with --leader-elect
--shards 3 (lease 4 s, renew deadline 3 s, retry 0.5 s) split the ring (4 operators) and the
replicator while the workload writes. The replicas must settle on one shard each, and an
operator must reconcile only on the replica holding its shard. The replica holding the shard
with the most operators is killed with SIGKILL (a supervisor restarts it after 1 s, as a
Deployment would): another replica must hold that shard within the lease duration plus 2.2
retry periods (and 1 s of slack), and the restarted replica must get a shard back. Then one
replica gets SIGTERM: its shard must be held by another within 2 s. At the end every ring round
and every replicated change must have arrived (the chaos suite's checker: 0 lost).

  /usr/bin/python3 test/ops/sharding_test.py BUILD KUBE_BIN"""
import sys
import threading
import time

from prometheus_client.parser import text_string_to_metric_families

import harness
from checker import await_convergence

LEASE_S, RENEW_S, RETRY_S = 4.0, 3.0, 0.5
SHARDS = 3
RING = 4
PREFIX = "ops-shards"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
FLAGS = ["--leader-elect", "on", "--leader-election-id", PREFIX, "--leader-election-namespace", "default",
         "--shards", str(SHARDS),
         "--leader-elect-lease-duration", f"{int(LEASE_S * 1000)}ms",
         "--leader-elect-renew-deadline", f"{int(RENEW_S * 1000)}ms",
         "--leader-elect-retry-period", f"{int(RETRY_S * 1000)}ms",
         "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "0"]


def shard_of(name, shards=SHARDS):
    """runtime::shardOf: FNV-1a 64 of the name, modulo the shard count."""
    h = 14695981039346656037
    for c in name.encode():
        h = ((h ^ c) * 1099511628211) % 2**64
    return h % shards


OPERATORS = [f"ring-{i}" for i in range(RING)] + ["replicator"]


def shard_path(i):
    return harness.lease_path(f"{PREFIX}-shard-{i}")


def holders(api):
    return [harness.lease_holder(api, shard_path(i)) for i in range(SHARDS)]


def delete_leases(api):
    try:
        for lease in api.get(LEASES).get("items", []):
            name = lease["metadata"]["name"]
            if name.startswith(PREFIX + "-"):
                api.request("DELETE", f"{LEASES}/{name}", ok=(200, 202, 404))
    except Exception:  # noqa: BLE001 - nothing left by an earlier run
        pass


def scrape(host):
    """({operator: controller_runtime_reconcile_total over results}, {lease: master status})
    from the host's metrics page, or None."""
    address = host.logged_address("metrics")
    status, body = harness.http_get(address, "/metrics") if address else (None, "")
    if status != 200:
        return None
    reconciled, leading = {}, {}
    for family in text_string_to_metric_families(body):
        if family.name == "controller_runtime_reconcile":
            for s in family.samples:
                if s.name.endswith("_total"):
                    reconciled[s.labels["controller"]] = reconciled.get(s.labels["controller"], 0) + s.value
        elif family.name == "leader_election_master_status":
            for s in family.samples:
                leading[s.labels["name"]] = s.value
    return reconciled, leading


def reconciles(host):
    scraped = scrape(host)
    return scraped and scraped[0]


def balanced(api, identities):
    """Each shard held by a live replica, each replica holding one."""
    h = holders(api)
    live = set(identities.values())
    return all(x in live for x in h) and len(set(h)) == SHARDS


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    checks = harness.Checks()
    env = harness.Environment(build, kube_bin, "ops-shards")
    delete_leases(env.api)
    per_shard = {i: [o for o in OPERATORS if shard_of(o) == i] for i in range(SHARDS)}
    print(f"     operators per shard: {per_shard}")
    workload = env.workload(n=RING, sources=2, rounds=30, changes=150, window_s=20.0)
    hosts = {name: env.host(name, FLAGS) for name in ("a", "b", "c")}
    for h in hosts.values():
        h.start()
    try:
        ok, startup = workload.wait_ready(90)
        checks.check("the replicas carry round 1 and the first copies", ok, f"{startup:.1f} s")

        def identities():
            return {n: harness.campaign_identity(h) for n, h in hosts.items()}

        ids = harness.eventually(lambda: all(identities().values()) and identities(), 30)
        settled = harness.eventually(lambda: balanced(env.api, ids), 30, interval=0.2)
        checks.check("the three replicas settle on one shard each", settled, (holders(env.api), ids))
        owner = {i: next((n for n, x in ids.items() if x == h), None) for i, h in enumerate(holders(env.api))}
        print(f"     shard holders: {owner}")
        pages = {n: scrape(h) for n, h in hosts.items()}
        gauges_agree = all(
            pages[n] and all(pages[n][1].get(f"{PREFIX}-shard-{i}") == (1.0 if owner[i] == n else 0.0)
                             for i in range(SHARDS))
            for n in hosts)
        checks.check("leader_election_master_status on each replica names the shard it holds", gauges_agree,
                     {n: p and p[1] for n, p in pages.items()})

        workload.start()
        time.sleep(2)
        before = {n: reconciles(h) for n, h in hosts.items()}
        time.sleep(3)
        after = {n: reconciles(h) for n, h in hosts.items()}
        stray = []
        for name in hosts:
            if before[name] is None or after[name] is None:
                stray.append((name, "no metrics"))
                continue
            for op in OPERATORS:
                grew = after[name].get(op, 0) - before[name].get(op, 0)
                if grew > 0 and owner.get(shard_of(op)) != name:
                    stray.append((name, op, grew))
        grew_total = sum(sum(after[n].get(o, 0) - before[n].get(o, 0) for o in OPERATORS)
                         for n in hosts if before[n] and after[n])
        checks.check("operators reconcile only on the replica holding their shard", not stray and grew_total > 0,
                     (stray, grew_total))

        victim_shard = max(per_shard, key=lambda i: len(per_shard[i]))
        victim = owner[victim_shard]
        victim_id = ids[victim]
        hosts[victim].kill9()
        takeover_s, new_holder = harness.wait_lease_holder(
            env.api, shard_path(victim_shard), lambda h: h and h != victim_id, LEASE_S + 10, interval=0.05)
        bound = LEASE_S + 2.2 * RETRY_S + 1.0
        checks.check(f"after kill -9 another replica holds shard {victim_shard} within {bound:.1f} s",
                     takeover_s is not None and takeover_s <= bound, f"{takeover_s} s, holder {new_holder!r}")
        print(f"     takeover of shard {victim_shard} ({len(per_shard[victim_shard])} operators) after kill -9: "
              f"{None if takeover_s is None else round(takeover_s, 2)} s (lease {LEASE_S} s)")

        # The restarted replica joins under a new identity and gets a shard back.
        ids = harness.eventually(lambda: identities()[victim] not in (None, victim_id) and identities(), 20)
        rebalanced = harness.eventually(lambda: ids and balanced(env.api, ids), 30, interval=0.2)
        checks.check("the restarted replica gets a shard back: one each again", rebalanced, (holders(env.api), ids))

        owner = {i: next((n for n, x in (ids or {}).items() if x == h), None) for i, h in enumerate(holders(env.api))}
        leaver_shard = next((i for i in range(SHARDS) if owner[i] and owner[i] != victim), 0)
        leaver = owner[leaver_shard]
        if checks.check("a replica to stop holds a shard", leaver is not None, owner):
            stopper = threading.Thread(target=hosts[leaver].stop)
            stopper.start()
            handover_s, final = harness.wait_lease_holder(
                env.api, shard_path(leaver_shard), lambda h: h and h != ids[leaver], 10, interval=0.02)
            stopper.join(30)
            checks.check(f"after SIGTERM another replica holds shard {leaver_shard} within 2 s",
                         handover_s is not None and handover_s < 2.0, f"{handover_s} s, holder {final!r}")
            print(f"     handover after SIGTERM: {None if handover_s is None else round(handover_s, 2)} s")
            checks.check("the terminated replica exited 0", hosts[leaver].proc.returncode == 0,
                         hosts[leaver].log_tail(5))
            live = {n: i for n, i in ids.items() if n != leaver}
            spread = harness.eventually(
                lambda: all(h in live.values() for h in holders(env.api)), 10, interval=0.2)
            checks.check("the two replicas left hold every shard", spread, (holders(env.api), live))

        workload.join()
        converge_s, result = await_convergence(env.api, workload, workload.done_at, 60)
        checks.check("every ring round and replicated change arrived (0 lost)", result["lost"] == 0, result)
        print(f"     converged {None if converge_s is None else round(converge_s, 2)} s after the workload; "
              f"rounds {result['final_nonce']}, replicator changes {result['replicator_changes']}, "
              f"duplicates {result['duplicates']}")
        checks.check("the killed replica was restarted and none crashed",
                     hosts[victim].starts >= 2 and not any(h.crashes for h in hosts.values()),
                     [(n, h.starts, h.crashes) for n, h in hosts.items()])
    finally:
        for h in hosts.values():
            h.stop()
        workload.stop()
        delete_leases(env.api)
    checks.finish()


if __name__ == "__main__":
    main()
