#!/usr/bin/env python3
"""The host runs the cluster's WasmOperator objects (issue 13, part 2): `wasm-operator run`
without --operators, the ring (3) and the replicator applied as WasmOperators while the
chaos suite's workload writes. Checked: each object is loaded and reconciles, its status says
Running with its module's digest and generation; an upgrade under load (a new generation) is
applied and recorded as an Upgraded Event on the object; an upgrade to a module that is not Wasm
leaves the old version running, Degraded with the reason; a WasmOperator whose module is
refused says so in status; a deleted one is unloaded; `kubectl get wasmoperators` shows them;
and at the end every ring round and replicated change arrived (0 lost).

  /usr/bin/python3 test/api/wasmoperator_controller_test.py BUILD KUBE_BIN"""
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
import harness  # noqa: E402
from checker import await_convergence  # noqa: E402
from wasm_operators import COLLECTION, CRD, ClusterHost, condition, get, path, status_of  # noqa: E402

EVENTS = "/apis/events.k8s.io/v1/namespaces/default/events"
PREFIX = "api-wop"


def upgraded(api, name, generation):
    obj = get(api, name)
    return obj and (obj.get("status") or {}).get("observedGeneration") == generation and obj


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    checks = harness.Checks()
    env = harness.Environment(build, kube_bin, PREFIX)
    kubectl = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", env.kubeconfig]
    subprocess.run(kubectl + ["apply", "-f", CRD], check=True, capture_output=True)
    subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/wasmoperators.wasm-operator.dev"],
                   check=True, capture_output=True)
    api = env.api
    workload = env.workload(n=3, sources=2, rounds=24, changes=100, window_s=18.0)
    with open(env.operators) as f:
        ring_docs = [json.loads(d) for d in f.read().split("\n---\n") if d.strip()]
    not_wasm = os.path.join(env.workdir, "not-wasm.wasm")
    with open(not_wasm, "w") as f:
        f.write("this is not a WebAssembly module\n")
    counter = os.path.join(build, "wasm", "counter.wasm")
    extra = [{"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
              "metadata": {"name": f"{PREFIX}-refused"},
              "spec": {"module": {"path": not_wasm}, "trusted": True}},
             {"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
              "metadata": {"name": f"{PREFIX}-counter"},
              "spec": {"module": {"path": counter}, "trusted": True, "config": {"namespace": f"{PREFIX}-counter"}}}]
    names = [d["metadata"]["name"] for d in ring_docs + extra]
    for n in names:
        api.request("DELETE", path(n), ok=(200, 202, 404))
    harness.eventually(lambda: not any(get(api, n) for n in names), 20)

    host = ClusterHost(env.binary, env.kubeconfig, env.operators, os.path.join(env.workdir, "host"),
                       os.path.join(env.workdir, "host", "swap"), env.artifacts, 1.0)
    host.extra_args = ["--metrics-bind-address", "0", "--health-probe-bind-address", "0"]
    os.makedirs(host.workdir, exist_ok=True)
    host.start()
    try:
        checks.check("the host runs the cluster's WasmOperators",
                     bool(harness.eventually(lambda: host.log_grep("running the cluster's WasmOperator objects"), 30)),
                     host.log_tail(5))
        for d in ring_docs + extra:
            api.post(COLLECTION, d)
        ok, startup = workload.wait_ready(90)
        checks.check("the applied ring and replicator reconcile", ok, f"{startup:.1f} s")

        with open(os.path.join(build, "wasm", "ring.wasm"), "rb") as f:
            ring_digest = "sha256:" + hashlib.sha256(f.read()).hexdigest()
        running = harness.eventually(
            lambda: all(status_of(api, d["metadata"]["name"]).get("phase") == "Running" for d in ring_docs), 30)
        ring0 = status_of(api, "ring-0")
        checks.check("each status says Running, Ready, generation 1", running and
                     condition(get(api, "ring-0"), "Ready").get("status") == "True" and
                     ring0.get("observedGeneration") == 1, ring0)
        checks.check("the status names the module's digest", ring0.get("moduleDigest") == ring_digest,
                     (ring0.get("moduleDigest"), ring_digest))

        refused = harness.eventually(lambda: status_of(api, f"{PREFIX}-refused").get("phase") == "Refused", 20)
        ready = condition(get(api, f"{PREFIX}-refused"), "Ready")
        checks.check("a WasmOperator whose module is refused says why in status",
                     refused and ready.get("status") == "False" and ready.get("reason") == "ModuleRefused"
                     and "WebAssembly" in ready.get("message", ""), ready)

        workload.start()
        time.sleep(2)
        # An upgrade under load: a new generation of ring-1.
        api.merge_patch(path("ring-1"), {"spec": {"limits": {"memoryMiB": 32}}})
        up = harness.eventually(lambda: upgraded(api, "ring-1", 2), 30)
        checks.check("an upgrade is applied: generation 2 observed, Ready",
                     up and condition(up, "Ready").get("status") == "True" and
                     condition(up, "Degraded").get("status") == "False", (up or {}).get("status"))
        checks.check("the host logged the upgrade", bool(host.log_grep("upgraded from WasmOperator generation 2")),
                     host.log_tail(5))
        uid = (get(api, "ring-1") or {}).get("metadata", {}).get("uid")

        def upgrade_event():
            items = api.get(EVENTS).get("items", [])
            return [e for e in items if e.get("reason") == "Upgraded" and
                    e.get("regarding", {}).get("name") == "ring-1" and e["regarding"].get("kind") == "WasmOperator"]

        events = harness.eventually(upgrade_event, 20)
        checks.check("the upgrade is an Upgraded Event on the WasmOperator",
                     bool(events) and events[0]["regarding"].get("uid") == uid, events)

        # An upgrade to a module that is not Wasm: the old version keeps running, Degraded.
        api.merge_patch(path("ring-2"), {"spec": {"module": {"path": not_wasm}}})
        bad = harness.eventually(lambda: upgraded(api, "ring-2", 2), 30)
        degraded = condition(bad, "Degraded")
        checks.check("a refused upgrade leaves the old version running, Degraded with the reason",
                     bad and bad["status"].get("phase") == "Degraded" and degraded.get("status") == "True" and
                     degraded.get("reason") == "UpgradeRefused" and
                     condition(bad, "Ready").get("status") == "True" and
                     bad["status"].get("moduleDigest") == ring_digest, (bad or {}).get("status"))
        api.merge_patch(path("ring-2"), {"spec": {"module": {"path": os.path.join(build, "wasm", "ring.wasm")}}})
        fixed = harness.eventually(lambda: upgraded(api, "ring-2", 3), 30)
        checks.check("fixing it clears Degraded", fixed and condition(fixed, "Degraded").get("status") == "False",
                     (fixed or {}).get("status"))

        table = subprocess.run(kubectl + ["get", "wasmoperators"], capture_output=True, text=True).stdout
        rows = {line.split()[0]: line.split() for line in table.splitlines()[1:] if line.split()}
        checks.check("kubectl get wasmoperators shows them running",
                     rows.get("ring-0", [None, None, None])[2] == "Running" and
                     rows.get(f"{PREFIX}-refused", [None, None, None])[1] == "Refused", table)

        counting = harness.eventually(lambda: (host.operator(f"{PREFIX}-counter") or {}).get("state") == "Running", 20)
        checks.check("a WasmOperator is loaded", counting, host.status())
        api.request("DELETE", path(f"{PREFIX}-counter"), ok=(200, 202))
        gone = harness.eventually(lambda: host.operator(f"{PREFIX}-counter") is None, 20)
        checks.check("a deleted WasmOperator is unloaded", gone, host.operator(f"{PREFIX}-counter"))

        workload.join()
        converge_s, result = await_convergence(api, workload, workload.done_at, 60)
        checks.check("every ring round and replicated change arrived through the upgrades (0 lost)",
                     result["lost"] == 0, result)
        print(f"     converged {None if converge_s is None else round(converge_s, 2)} s after the workload; "
              f"rounds {result['final_nonce']}, replicator changes {result['replicator_changes']}")
        checks.check("the host did not crash", host.starts == 1 and not host.crashes, (host.starts, host.crashes))
    finally:
        host.stop()
        workload.stop()
        for n in names:
            try:
                api.request("DELETE", path(n), ok=(200, 202, 404))
            except Exception:  # noqa: BLE001 - best effort
                pass
    checks.finish()


if __name__ == "__main__":
    main()
