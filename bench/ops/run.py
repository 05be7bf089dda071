#!/usr/bin/env python3
"""Operations figures (issue 14): leader takeover after kill -9 and after SIGTERM, the memory a
follower costs beside its leader, a shard's takeover with --shards K (K replicas), and the cost
of a /metrics scrape with many operators.

  /usr/bin/python3 bench/ops/run.py --build BUILD [--repeats 10] [--ring 10] [--shards 3]
                                    [--scrape-operators 1000]

Writes bench/results/ops.json and docs/benchmarks/ops.md (with a plot). Every setting is in the
JSON; the leader election runs at the host's defaults (lease 15 s, renew 10 s, retry 2 s)
unless --lease/--renew/--retry say otherwise. One control plane of its own for the whole run."""
import argparse
import datetime
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "bench", "ring"))
# bench/report.py first: the harness puts test/chaos, which has a report.py of its own, on the path.
import report  # noqa: E402,I100
from report import read_deps  # noqa: E402
import harness  # noqa: E402
import probe  # noqa: E402
import report_ops  # noqa: E402

LEASE = "bench-ops"
LEASE_PATH = harness.lease_path(LEASE)
SHARD_PREFIX = "bench-ops-shards"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases"


def pss_bytes(pid):
    return probe.pss_bytes([pid])


def holder(api):
    return harness.lease_holder(api, LEASE_PATH)


def wait_holder(api, predicate, timeout):
    return harness.wait_lease_holder(api, LEASE_PATH, predicate, timeout)


identity = harness.campaign_identity


def election_args(args):
    return ["--leader-elect", "on", "--leader-election-id", LEASE, "--leader-election-namespace", "default",
            "--leader-elect-lease-duration", f"{args.lease}ms", "--leader-elect-renew-deadline", f"{args.renew}ms",
            "--leader-elect-retry-period", f"{args.retry}ms",
            "--metrics-bind-address", "0", "--health-probe-bind-address", "0"]


def one_failover(env, args, how, rep):
    """Two replicas; the leader gets kill -9 or SIGTERM; seconds until the other holds the Lease."""
    try:
        env.api.request("DELETE", LEASE_PATH, ok=(200, 202, 404))
    except Exception:  # noqa: BLE001
        pass
    hosts = [env.host(f"{how}-{rep}-{k}", election_args(args), restart_delay_s=3600) for k in range(2)]
    for h in hosts:
        h.start()
    try:
        _, first = wait_holder(env.api, bool, 60)
        ids = [harness.eventually(lambda h=h: identity(h), 30) for h in hosts]
        leader = hosts[ids.index(first)] if first in ids else None
        if leader is None:
            return {"error": f"holder {first!r} is neither replica {ids}"}
        follower = hosts[1 - hosts.index(leader)]
        time.sleep(args.settle)  # both loaded, caches synced
        memory = {"leader_pss_bytes": pss_bytes(leader.proc.pid), "follower_pss_bytes": pss_bytes(follower.proc.pid)}
        if how == "kill9":
            leader.kill9(timeout=0.5)
            took, new = wait_holder(env.api, lambda h: h and h != first, args.lease / 1000 + 30)
        else:
            leader.proc.send_signal(15)
            took, new = wait_holder(env.api, lambda h: h and h != first, 30)
        return {"seconds": took, "new_holder_is_follower": new == identity(follower), **memory}
    finally:
        for h in hosts:
            h.stop()


def shard_args(args):
    return election_args(args)[:3] + [SHARD_PREFIX] + election_args(args)[4:] + ["--shards", str(args.shards)]


def shard_holders(api, shards):
    return [harness.lease_holder(api, harness.lease_path(f"{SHARD_PREFIX}-shard-{i}")) for i in range(shards)]


def delete_shard_leases(api):
    try:
        for lease in api.get(LEASES).get("items", []):
            if lease["metadata"]["name"].startswith(SHARD_PREFIX + "-"):
                api.request("DELETE", f"{LEASES}/{lease['metadata']['name']}", ok=(200, 202, 404))
    except Exception:  # noqa: BLE001 - none left by an earlier run
        pass


def one_shard_failover(env, args, how, rep):
    """--shards K with K replicas settled on one shard each; the holder of shard 0 gets kill -9 or
    SIGTERM; seconds until another replica holds shard 0."""
    delete_shard_leases(env.api)
    k = args.shards
    hosts = [env.host(f"shard-{how}-{rep}-{i}", shard_args(args), restart_delay_s=3600) for i in range(k)]
    started = time.monotonic()
    for h in hosts:
        h.start()
    try:
        ids = [harness.eventually(lambda h=h: identity(h), 30) for h in hosts]
        settled = harness.eventually(lambda: len(set(shard_holders(env.api, k)) & set(ids)) == k, 120, interval=0.2)
        if not settled:
            return {"error": f"no balance: holders {shard_holders(env.api, k)}, replicas {ids}"}
        balance_s = time.monotonic() - started
        time.sleep(args.settle)
        first = shard_holders(env.api, k)[0]
        victim = hosts[ids.index(first)]
        path = harness.lease_path(f"{SHARD_PREFIX}-shard-0")
        if how == "kill9":
            victim.kill9(timeout=0.5)
            took, new = harness.wait_lease_holder(env.api, path, lambda h: h and h != first, args.lease / 1000 + 30)
        else:
            victim.proc.send_signal(15)
            took, new = harness.wait_lease_holder(env.api, path, lambda h: h and h != first, 30)
        return {"seconds": took, "new_holder_is_replica": new in ids and new != first, "balance_s": balance_s}
    finally:
        for h in hosts:
            h.stop()
        delete_shard_leases(env.api)


def scrape_cost(env, args):
    """One host with --scrape-operators ring operators (identical modules, default swap settings):
    the time and size of a /metrics scrape, median of --scrapes."""
    operators = os.path.join(env.workdir, "many.yaml")
    docs = [{"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator", "metadata": {"name": f"ring-{i}"},
             "spec": {"module": {"path": os.path.join(args.build, "wasm", "ring.wasm")},
                      "serviceAccount": {"namespace": "wasm-operators-ring", "name": f"ring-{i % 10}"},
                      "config": {"inputNamespace": f"scrape-{i}", "outputNamespace": f"scrape-{i + 1}"}}}
            for i in range(args.scrape_operators)]
    with open(operators, "w") as f:
        f.write("\n---\n".join(json.dumps(d) for d in docs) + "\n")
    env.operators = operators
    host = env.host("scrape", ["--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "0"])
    host.start()
    try:
        address = host.logged_address("metrics", timeout=120)
        loaded = harness.eventually(lambda: len((host.status() or {}).get("operators", [])) >= args.scrape_operators,
                                    300, interval=0.5)
        if not (address and loaded):
            return {"error": "the host did not load every operator", "log_tail": host.log_tail(5)}
        time.sleep(2)
        times, size = [], 0
        for _ in range(args.scrapes):
            started = time.monotonic()
            status, body = harness.http_get(address, "/metrics", timeout=30)
            times.append(time.monotonic() - started)
            size = len(body.encode())
        return {"operators": args.scrape_operators, "scrapes": args.scrapes, "ms_median": statistics.median(times) * 1e3,
                "ms_min": min(times) * 1e3, "ms_max": max(times) * 1e3, "bytes": size,
                "host_pss_bytes": pss_bytes(host.proc.pid)}
    finally:
        host.stop()


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def repeated(args, label, one):
    """--repeats runs of one(rep), each printed as it ends."""
    runs = []
    for rep in range(args.repeats):
        r = one(rep)
        print(f"{label} {rep + 1}/{args.repeats}: {r}", flush=True)
        runs.append(r)
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--repeats", type=int, default=10, help="failovers of each kind")
    parser.add_argument("--ring", type=int, default=10, help="ring operators in each replica")
    parser.add_argument("--lease", type=int, default=15000, help="lease duration, ms (host default)")
    parser.add_argument("--renew", type=int, default=10000, help="renew deadline, ms (host default)")
    parser.add_argument("--retry", type=int, default=2000, help="retry period, ms (host default)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after the first holder before the fault")
    parser.add_argument("--shards", type=int, default=3, help="shards, and as many replicas, for the sharded runs")
    parser.add_argument("--scrape-operators", type=int, default=1000)
    parser.add_argument("--scrapes", type=int, default=20)
    args = parser.parse_args()
    args.build = os.path.abspath(args.build)
    deps = read_deps(args.build)
    results = {}
    with report.control_plane(deps) as kubeconfig:
        os.environ["WOP_TESTENV_DIR"] = os.path.dirname(kubeconfig)
        env = harness.Environment(args.build, deps["WOP_KUBE_BIN"], "bench-ops")
        env.workload(n=args.ring, sources=1, rounds=1, changes=1, window_s=1.0)
        for how in ("kill9", "sigterm"):
            runs = repeated(args, how, lambda rep, how=how: one_failover(env, args, how, rep))
            results[how] = {"runs": runs, "seconds": summary([r.get("seconds") for r in runs])}
        for how in ("kill9", "sigterm"):
            runs = repeated(args, f"shards {how}", lambda rep, how=how: one_shard_failover(env, args, how, rep))
            results[f"shards_{how}"] = {"runs": runs, "seconds": summary([r.get("seconds") for r in runs]),
                                        "balance_s": summary([r.get("balance_s") for r in runs])}
        follower = [r.get("follower_pss_bytes") for how in ("kill9", "sigterm") for r in results[how]["runs"]]
        leader = [r.get("leader_pss_bytes") for how in ("kill9", "sigterm") for r in results[how]["runs"]]
        results["memory"] = {"follower_pss_bytes": summary(follower), "leader_pss_bytes": summary(leader)}
        results["scrape"] = scrape_cost(env, args)
        print(f"scrape: {results['scrape']}", flush=True)
    doc = {"benchmark": "operations (issue 14)", "commit": report.git_commit(),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": report.machine_summary(), "versions": {k: v for k, v in deps.items() if k.endswith("_VERSION")},
           "settings": {"repeats": args.repeats, "ring_operators_per_replica": args.ring,
                        "lease_duration_ms": args.lease, "renew_deadline_ms": args.renew, "retry_period_ms": args.retry,
                        "settle_s": args.settle, "scrape_operators": args.scrape_operators, "scrapes": args.scrapes,
                        "replicas": 2, "shards": args.shards, "sharded_replicas": args.shards, "swap": "host defaults (on, idle 2000 ms, prediction on)",
                        "scrape_modules": "identical (ring.wasm)"},
           **results}
    out = os.path.join(ROOT, "bench", "results", "ops.json")
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
    report_ops.write(doc, os.path.join(ROOT, "docs", "benchmarks", "ops.md"),
                     os.path.join(ROOT, "docs", "benchmarks", "ops-failover.png"))
    print(f"wrote {out} and docs/benchmarks/ops.md")


if __name__ == "__main__":
    main()
