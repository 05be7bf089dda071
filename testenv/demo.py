#!/usr/bin/env python3
"""`make demo`: a local control plane, one wasm-operator host running the example operators
(a ring of three `ring` operators, the `replicator`, and one deliberately broken operator), sample
objects being reconciled, and a readable summary.

  demo.py --build BUILD_DIR [--keep]   --keep leaves the control plane running
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "testenv"))
from deps import read_deps  # noqa: E402

CONTROLPLANE = os.path.join(ROOT, "testenv", "controlplane.py")


def run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"demo: {' '.join(os.path.basename(a) for a in argv[:3])} ... failed: {result.stderr.strip()}")
    return result.stdout


def wait_for(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return time.monotonic()
        except (subprocess.CalledProcessError, json.JSONDecodeError, KeyError, OSError, StopIteration):
            pass
        time.sleep(0.1)
    sys.exit(f"demo: gave up waiting for {what} after {timeout} s")


def definitions(build, ring_size):
    docs = []
    for i in range(ring_size):
        docs.append({"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
                     "metadata": {"name": f"ring-{i}"},
                     "spec": {"module": {"path": os.path.join(build, "wasm", "ring.wasm")},
                              "serviceAccount": {"namespace": "wasm-operators-ring", "name": f"ring-{i}"},
                              "config": {"inputNamespace": f"demo-ring-{i}",
                                         "outputNamespace": f"demo-ring-{(i + 1) % ring_size}"}}})
    docs.append({"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
                 "metadata": {"name": "replicator"},
                 "spec": {"module": {"path": os.path.join(build, "wasm", "replicator.wasm")},
                          "serviceAccount": {"namespace": "wasm-operators", "name": "replicator"}}})
    docs.append({"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
                 "metadata": {"name": "broken"},
                 "spec": {"module": {"path": os.path.join(ROOT, "test", "guests", "hostile", "trap.wat")},
                          "serviceAccount": {"namespace": "wasm-operators", "name": "configmaps-only"},
                          "limits": {"memoryMiB": 16, "entryTimeoutMs": 200}}})
    # JSON documents are YAML documents.
    return "\n---\n".join(json.dumps(d) for d in docs) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    host_binary = os.path.join(build, "host", "wasm-operator")
    ring_size = 3

    work = tempfile.mkdtemp(prefix="wop-demo-")
    plane = os.path.join(work, "controlplane")
    print(f"1. Starting a local control plane (etcd {deps['WOP_ETCD_VERSION']}, kube-apiserver and "
          f"kube-controller-manager {deps['WOP_KUBERNETES_VERSION']}) ...")
    started = time.monotonic()
    run([sys.executable, CONTROLPLANE, "start", "--dir", plane, "--bin", deps["WOP_KUBE_BIN"],
         "--owner-pid", str(os.getpid())])
    print(f"   ready in {time.monotonic() - started:.1f} s")
    kubeconfig = os.path.join(plane, "kubeconfig")
    kc = [os.path.join(deps["WOP_KUBE_BIN"], "kubectl"), "--kubeconfig", kubeconfig]
    host = None
    try:
        run(kc + ["apply", "-f", os.path.join(ROOT, "deploy", "crds", "testresources.yaml"),
                  "-f", os.path.join(ROOT, "deploy", "crds", "wasmoperators.yaml"),
                  "-f", os.path.join(ROOT, "deploy", "rbac", "example-operators.yaml")])
        run(kc + ["wait", "--for=condition=Established", "crd/testresources.bench.wasm-operator.dev",
                  "crd/wasmoperators.wasm-operator.dev"])
        for ns in [f"demo-ring-{i}" for i in range(ring_size)] + ["demo-source", "demo-team-a", "demo-team-b"]:
            run(kc + ["create", "namespace", ns])

        defs = os.path.join(work, "operators.yaml")
        with open(defs, "w") as f:
            f.write(definitions(build, ring_size))
        status_file = os.path.join(work, "status.json")
        log_path = os.path.join(work, "host.log")
        print(f"2. Starting one wasm-operator host (log: {log_path}), then `kubectl apply` of {ring_size + 2} "
              f"WasmOperator objects ...")
        log = open(log_path, "w")
        # No --operators: the host runs the cluster's WasmOperator objects.
        host = subprocess.Popen([host_binary, "run", "--kubeconfig", kubeconfig,
                                 "--status-file", status_file, "--swap-idle-ms", "500"],
                                stdout=log, stderr=subprocess.STDOUT)
        run(kc + ["apply", "-f", defs])
        wait_for("the host", lambda: len(json.load(open(status_file))["operators"]) == ring_size + 2)

        print("3. Ring: writing nonce 1, then 2, into demo-ring-0/token ...")
        for nonce in (1, 2):
            manifest = {"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
                        "metadata": {"name": "token", "namespace": "demo-ring-0"}, "spec": {"nonce": nonce}}
            written = time.monotonic()
            run(kc + ["apply", "-f", "-"], input=json.dumps(manifest))
            last = f"demo-ring-{ring_size - 1}"
            done = wait_for(f"nonce {nonce} in {last}", lambda: json.loads(
                run(kc + ["get", "-n", last, "testresource", "token", "-o", "json"]))["spec"]["nonce"] == nonce)
            print(f"   nonce {nonce} reached {last} after {(done - written) * 1000:.0f} ms")

        print("4. Replicator: a ConfigMap labelled for replication into demo-team-a and demo-team-b ...")
        source = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "shared-settings", "namespace": "demo-source",
                               "labels": {"replicator.wasm-operator.dev/replicate": "true"},
                               "annotations": {"replicator.wasm-operator.dev/to": "demo-team-a,demo-team-b"}},
                  "data": {"log-level": "info"}}
        run(kc + ["apply", "-f", "-"], input=json.dumps(source))
        copies = lambda: [json.loads(run(kc + ["get", "-n", ns, "configmap", "shared-settings", "-o", "json"]))
                          for ns in ("demo-team-a", "demo-team-b")]  # noqa: E731
        wait_for("the copies", lambda: all(c["data"]["log-level"] == "info" for c in copies()))
        print("   copied to demo-team-a and demo-team-b")
        run(kc + ["patch", "-n", "demo-source", "configmap", "shared-settings", "--type=merge",
                  "-p", '{"data":{"log-level":"debug"}}'])
        wait_for("the copies to follow", lambda: all(c["data"]["log-level"] == "debug" for c in copies()))
        print("   source changed to log-level=debug: copies followed")
        run(kc + ["delete", "-n", "demo-source", "configmap", "shared-settings", "--wait=true"])
        gone = subprocess.run(kc + ["get", "-n", "demo-team-a", "configmap", "shared-settings"], capture_output=True)
        wait_for("the copies to be removed", lambda: subprocess.run(
            kc + ["get", "-n", "demo-team-b", "configmap", "shared-settings"], capture_output=True).returncode != 0)
        print(f"   source deleted: copies removed by the finalizer ({'yes' if gone.returncode != 0 else 'pending'})")

        print("5. A broken operator (traps on every reconcile) gets work too ...")
        poke = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "poke", "namespace": "demo-source",
                             "labels": {"hostile.wasm-operator.dev/target": "yes"}}}
        run(kc + ["apply", "-f", "-"], input=json.dumps(poke))
        wait_for("the broken operator to fail", lambda: next(
            o for o in json.load(open(status_file))["operators"] if o["name"] == "broken")["restarts"] >= 1)
        print("   it failed and is restarting with backoff; the others were not affected")

        print("6. Swapping: idle operators are snapshotted to disk and dropped from memory ...")
        ring_ops = lambda: [o for o in json.load(open(status_file))["operators"]  # noqa: E731
                            if o["name"].startswith("ring-")]
        wait_for("the ring to swap out", lambda: all(o["swap"]["swappedOut"] for o in ring_ops()))
        print(f"   all {ring_size} ring operators swapped out")
        manifest = {"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
                    "metadata": {"name": "token", "namespace": "demo-ring-0"}, "spec": {"nonce": 3}}
        written = time.monotonic()
        run(kc + ["apply", "-f", "-"], input=json.dumps(manifest))
        last = f"demo-ring-{ring_size - 1}"
        done = wait_for("nonce 3 after swapping", lambda: json.loads(
            run(kc + ["get", "-n", last, "testresource", "token", "-o", "json"]))["spec"]["nonce"] == 3)
        print(f"   nonce 3 woke each one in turn from its snapshot and reached {last} after "
              f"{(done - written) * 1000:.0f} ms")
        time.sleep(1.2)  # one more status write
        status = json.load(open(status_file))
        # The host writes each WasmOperator's status at once on a trap or restart, and every 10 s
        # while its counters move: wait (at most 15 s) for the broken one's back-off and the ring's
        # swap-outs to show.
        def statuses_current():
            phase = run(kc + ["get", "wasmoperator", "broken", "-o", "jsonpath={.status.phase}"])
            memory = run(kc + ["get", "wasmoperator", "ring-0", "-o", "jsonpath={.status.memory}"])
            return phase == "Degraded" and memory == "Swapped"

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not statuses_current():
            time.sleep(0.5)
        wasm_operators = run(kc + ["get", "wasmoperators"])
    finally:
        if host is not None:
            host.send_signal(signal.SIGTERM)
            try:
                host.wait(timeout=20)
            except subprocess.TimeoutExpired:
                host.kill()
        if args.keep:
            print(f"\ncontrol plane left running: python3 {CONTROLPLANE} stop --dir {plane}")
        else:
            subprocess.run([sys.executable, CONTROLPLANE, "stop", "--dir", plane])

    print("\nwasm-operator demo: summary")
    print("---------------------------")
    print(f"{'operator':<12} {'state':<9} {'reconciles':>10} {'errors':>7} {'restarts':>8} {'memory':>8} "
          f"{'swap-outs':>9} {'restores':>8} {'restore':>9}  last error")
    for o in sorted(status["operators"], key=lambda o: o["name"]):
        error = (o["lastError"][:50] + "...") if len(o["lastError"]) > 50 else o["lastError"]
        swap = o["swap"]
        memory = "on disk" if swap["swappedOut"] else f"{o['memoryBytes'] // 1024} KiB"
        restore = f"{swap['lastRestoreMs']:.2f} ms" if swap["restores"] else "-"
        print(f"{o['name']:<12} {o['state']:<9} {o['reconciles']:>10} {o['reconcileErrors']:>7} {o['restarts']:>8} "
              f"{memory:>8} {swap['swapOuts']:>9} {swap['restores']:>8} {restore:>9}  {error}")
    total = sum(o["reconciles"] for o in status["operators"])
    print(f"\n{len(status['operators'])} operators in one host process, {total} reconciles; "
          f"host resident memory {status['hostResidentBytes'] / 2**20:.1f} MiB")
    memory = status.get("memory")
    if memory:
        print(f"of which heap in use {memory['heapInUseBytes'] / 2**20:.1f} MiB, informer caches "
              f"{memory['cachedObjectBytes'] / 1024:.0f} KiB ({memory['cachedObjects']} objects), "
              f"linear memories {memory['linearMemoryBytes'] / 1024:.0f} KiB")
    print("\nkubectl get wasmoperators (their status, as the host wrote it):\n")
    print(wasm_operators.rstrip())
    print(f"\nhost log: {os.path.join(work, 'host.log')}; control plane stopped")


if __name__ == "__main__":
    main()
