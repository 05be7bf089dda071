#!/usr/bin/env python3
"""The host's own RBAC is the least it needs (issue 13, part 4): deploy/rbac/host.yaml is
applied, and the host runs as the ServiceAccount wasm-operator-system/wasm-operator (a token
from the TokenRequest API, the control plane's CA), without --operators and with
--leader-elect. Three ring operators are applied as WasmOperators acting as their own
ServiceAccounts (deploy/rbac/example-operators.yaml, which also grants the host what each
operator namespace adds). Checked: the host holds the Lease in its own namespace; the
operators load and every ring round arrives; their status is written and their Loaded Events
are recorded; no log line names a 403 or Forbidden. Then one grant is taken away (the host may
no longer act as the ring's ServiceAccounts): the ring stops, the host's log names the refused
request and the status counts the errors, and the ring resumes when the grant is back. Last, a
host with --shards 2 alone takes both shard Leases, carries a round, and on SIGTERM deletes its
membership Lease, with no 403 either.

  /usr/bin/python3 test/api/host_rbac_test.py BUILD KUBE_BIN"""
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
import harness  # noqa: E402
from kube import TESTRESOURCES, ApiError  # noqa: E402
from wasmoperator_controller_test import ClusterHost  # noqa: E402

CRD = os.path.join(ROOT, "deploy", "crds", "wasmoperators.yaml")
HOST_RBAC = os.path.join(ROOT, "deploy", "rbac", "host.yaml")
EXAMPLES_RBAC = os.path.join(ROOT, "deploy", "rbac", "example-operators.yaml")
COLLECTION = "/apis/wasm-operator.dev/v1alpha1/wasmoperators"
EVENTS = "/apis/events.k8s.io/v1/namespaces/default/events"
HOST_NS, HOST_SA = "wasm-operator-system", "wasm-operator"
RING_NS = "wasm-operators-ring"
IMPERSONATE_RING = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{RING_NS}/rolebindings/wasm-operator-host"
AGGREGATED = "/apis/rbac.authorization.k8s.io/v1/clusterroles/wasm-operator-host-operators"
PREFIX = "api-rbac"
LEASE = f"{PREFIX}-leader"
SHARDED = f"{PREFIX}-sharded"
REFUSED = re.compile(r"forbidden|\(403\)", re.IGNORECASE)


def sa_kubeconfig(api, admin_kubeconfig, path):
    """A kubeconfig for the host's ServiceAccount: a one-hour token, the control plane's CA and
    the host's namespace as the context's (where the Lease goes, as in its Pod)."""
    answer = api.post(f"/api/v1/namespaces/{HOST_NS}/serviceaccounts/{HOST_SA}/token",
                      {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                       "spec": {"expirationSeconds": 3600}})
    with open(admin_kubeconfig) as f:
        cluster = json.load(f)["clusters"][0]["cluster"]
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "host",
              "clusters": [{"name": "test", "cluster": {"server": cluster["server"],
                                                        "certificate-authority": cluster["certificate-authority"]}}],
              "users": [{"name": HOST_SA, "user": {"token": answer["status"]["token"]}}],
              "contexts": [{"name": "host", "context": {"cluster": "test", "user": HOST_SA,
                                                        "namespace": HOST_NS}}]}
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def get(api, path):
    try:
        return api.get(path)
    except ApiError:
        return None


def status_of(api, name):
    return (get(api, f"{COLLECTION}/{name}") or {}).get("status") or {}


def refusals(host):
    """The host's log lines that name a request refused for want of rights."""
    return [line[:300] for line in harness.log_lines(host.log_path) if REFUSED.search(line)]


def loaded_events(api, names):
    items = api.get(EVENTS).get("items", [])
    seen = {e["regarding"].get("name") for e in items
            if e.get("reason") == "Loaded" and e.get("regarding", {}).get("kind") == "WasmOperator"
            and e.get("reportingController") == "wasm-operator.dev/host"}
    return set(names) <= seen


def members(api):
    """The membership Leases of the sharded host's replicas."""
    leases = api.get(f"/apis/coordination.k8s.io/v1/namespaces/{HOST_NS}/leases").get("items", [])
    return [item["metadata"]["name"] for item in leases
            if item["metadata"]["name"].startswith(f"{SHARDED}-member-")]


def may_impersonate_ring(api):
    review = api.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": f"system:serviceaccount:{HOST_NS}:{HOST_SA}",
                 "groups": ["system:serviceaccounts", f"system:serviceaccounts:{HOST_NS}", "system:authenticated"],
                 "resourceAttributes": {"namespace": RING_NS, "verb": "impersonate", "resource": "serviceaccounts",
                                        "name": "ring-0"}}})
    return review.get("status", {}).get("allowed", False)


def round_arrives(workload, nonce, timeout):
    workload._write_nonce(nonce)
    return workload.ring.wait((workload.ring_ns[-1], "ring"), lambda v: v >= nonce, timeout)


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    checks = harness.Checks()
    env = harness.Environment(build, kube_bin, PREFIX)
    api = env.api
    kubectl = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", env.kubeconfig]
    subprocess.run(kubectl + ["apply", "-f", CRD, "-f", HOST_RBAC, "-f", EXAMPLES_RBAC],
                   check=True, capture_output=True)
    subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/wasmoperators.wasm-operator.dev"],
                   check=True, capture_output=True)
    # The ring's namespace adds its rules to the host's through aggregation (a controller).
    aggregated = harness.eventually(
        lambda: any("testresources" in r.get("resources", []) for r in (get(api, AGGREGATED) or {}).get("rules") or []),
        30)
    checks.check("the operator namespaces' rules are aggregated into the host's", aggregated, get(api, AGGREGATED))

    # A ring object left by an earlier run would hold nonces this run has not carried yet.
    for i in range(3):
        api.request("DELETE", f"{TESTRESOURCES}/namespaces/{PREFIX}-ring-{i}/testresources/ring", ok=(200, 202, 404))
    workload = env.workload(n=3, sources=0, rounds=8, changes=0, window_s=4.0)
    with open(env.operators) as f:
        ring = [json.loads(d) for d in f.read().split("\n---\n") if d.strip()]
    ring = [d for d in ring if d["metadata"]["name"].startswith("ring-")]
    names = [d["metadata"]["name"] for d in ring]
    for n in names:
        api.request("DELETE", f"{COLLECTION}/{n}", ok=(200, 202, 404))
    for lease in [LEASE, f"{SHARDED}-shard-0", f"{SHARDED}-shard-1"]:
        api.request("DELETE", harness.lease_path(lease, HOST_NS), ok=(200, 202, 404))
    harness.eventually(lambda: not any(get(api, f"{COLLECTION}/{n}") for n in names), 20)

    kubeconfig = sa_kubeconfig(api, env.kubeconfig, os.path.join(env.workdir, "kubeconfig-host"))
    probes = ["--metrics-bind-address", "0", "--health-probe-bind-address", "0"]
    host = ClusterHost(env.binary, kubeconfig, env.operators, os.path.join(env.workdir, "host"),
                       os.path.join(env.workdir, "host", "swap"), env.artifacts, 1.0)
    host.extra_args = ["--leader-elect", "--leader-election-id", LEASE] + probes
    os.makedirs(host.workdir, exist_ok=True)
    sharded = None
    host.start()
    try:
        identity = harness.eventually(lambda: harness.campaign_identity(host), 30)
        held, holder = harness.wait_lease_holder(api, harness.lease_path(LEASE, HOST_NS),
                                                 lambda h: identity and h == identity, 30, interval=0.1)
        checks.check(f"the host holds the Lease {HOST_NS}/{LEASE}", held is not None, (holder, identity,
                                                                                          host.log_tail(5)))
        for d in ring:
            api.post(COLLECTION, d)
        ok, startup = workload.wait_ready(60)
        checks.check("the ring operators load and reconcile as their ServiceAccounts", ok,
                     (f"{startup:.1f} s", host.log_tail(8)))
        workload.start()
        workload.join()
        checks.check("every ring round arrives", not workload.rounds_timed_out and not workload.write_errors,
                     (workload.rounds_timed_out, workload.write_errors[:2]))
        running = harness.eventually(lambda: all(status_of(api, n).get("phase") == "Running" for n in names), 20)
        checks.check("the host writes their status", running, [status_of(api, n) for n in names])
        events = harness.eventually(lambda: loaded_events(api, names), 20)
        checks.check("the host records their Loaded Events", events, api.get(EVENTS).get("items", [])[:3])

        checks.check("no log line names a 403 or Forbidden", not refusals(host), refusals(host)[:3])

        # Without the right to act as the ring's ServiceAccounts, the ring's writes are refused.
        binding = api.get(IMPERSONATE_RING)
        api.request("DELETE", IMPERSONATE_RING, ok=(200, 202))
        harness.eventually(lambda: not may_impersonate_ring(api), 10)  # the authorizer saw it
        nonce = workload.nonce + 1
        stalled = not round_arrives(workload, nonce, 5)
        named = harness.eventually(lambda: [line for line in refusals(host)
                                            if 'cannot impersonate resource \\"serviceaccounts\\"' in line
                                            or 'cannot impersonate resource "serviceaccounts"' in line], 15)
        checks.check("without the impersonate grant the ring stops and the log names the refused request",
                     stalled and bool(named), (stalled, refusals(host)[:2]))
        counted = harness.eventually(lambda: (status_of(api, "ring-0").get("errors") or 0) > 0, 25)
        checks.check("the status counts the failed reconciles", counted, status_of(api, "ring-0"))
        api.post(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{RING_NS}/rolebindings",
                 {k: binding[k] for k in ("apiVersion", "kind", "roleRef", "subjects")} |
                 {"metadata": {"name": "wasm-operator-host", "namespace": RING_NS}})
        checks.check("with the grant back the ring resumes",
                     workload.ring.wait((workload.ring_ns[-1], "ring"), lambda v: v >= nonce, 60),
                     host.log_tail(5))
        host.stop()
        checks.check("the host did not crash", host.starts == 1 and not host.crashes, (host.starts, host.crashes))

        # The sharded variant under its own prefix, alone: it takes both shards, then on SIGTERM
        # deletes its membership Lease and releases them.
        sharded = ClusterHost(env.binary, kubeconfig, env.operators, os.path.join(env.workdir, "sharded"),
                              os.path.join(env.workdir, "sharded", "swap"), env.artifacts, 1.0)
        sharded.extra_args = ["--leader-elect", "--leader-election-id", SHARDED, "--shards", "2"] + probes
        os.makedirs(sharded.workdir, exist_ok=True)
        sharded.start()
        shard_id = harness.eventually(lambda: harness.campaign_identity(sharded), 30)
        both = harness.eventually(lambda: shard_id and all(
            harness.lease_holder(api, harness.lease_path(f"{SHARDED}-shard-{i}", HOST_NS)) == shard_id
            for i in range(2)), 30)
        checks.check("a host with --shards 2 holds both shard Leases", both, sharded.log_tail(5))
        checks.check("its round arrives", round_arrives(workload, workload.nonce + 1, 30), sharded.log_tail(5))
        present = bool(members(api))
        sharded.stop()
        checks.check("on SIGTERM it deletes its membership Lease", present and not members(api), members(api))
        checks.check("no log line of the sharded host names a 403 or Forbidden", not refusals(sharded),
                     refusals(sharded)[:3])
        checks.check("the sharded host did not crash", not sharded.crashes, sharded.crashes)
    finally:
        host.stop()
        if sharded:
            sharded.stop()
        workload.stop()
        subprocess.run(kubectl + ["apply", "-f", EXAMPLES_RBAC], capture_output=True)
        for n in names:
            try:
                api.request("DELETE", f"{COLLECTION}/{n}", ok=(200, 202, 404))
            except Exception:  # noqa: BLE001 - best effort
                pass
    checks.finish()


if __name__ == "__main__":
    main()
