#!/usr/bin/env python3
"""End to end on the real node (issue 15, part 4): the host as Pods, installed the way a
cluster admin installs it, running the example operators as WasmOperator objects.

1. `kubectl apply -k deploy/default` (the image `make image` built, imported by the node):
   both host Pods become Ready under the namespace's restricted Pod Security enforcement,
   with in-cluster credentials (the projected token, the `kubernetes` Service, TLS verified),
   and one holds the leader Lease.
2. The ring (3) and the replicator as WasmOperators whose modules come from a ConfigMap
   (`configMapRef`, read as each operator's ServiceAccount): each is Running, the nonce goes
   round and the copies appear.
3. Under the chaos suite's workload, the leader Pod is deleted (as a rollout or a drain would):
   the other replica takes over, the ReplicaSet's new Pod becomes Ready, and every ring round
   and replicated change arrives (0 lost).
4. A Pod running as the host's ServiceAccount reads its WasmOperators but is refused a Secret it
   was not granted (and the host's Pods mount no other credentials).

  /usr/bin/python3 test/e2e/cluster_test.py BUILD KUBE_BIN
Needs the controlplane and node fixtures (testenv/node.py)."""
import base64
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
sys.path.insert(0, os.path.join(ROOT, "test", "api"))
import harness  # noqa: E402
from checker import await_convergence  # noqa: E402
from workload import definitions  # noqa: E402
from wasm_operators import COLLECTION, path, status_of  # noqa: E402

PREFIX = "e2e"
NS = "wasm-operator-system"
LEASE = harness.lease_path("wasm-operator-leader", NS)
MODULES_NS = "wasm-operators"
MODULES = f"{PREFIX}-modules"
PRIVATE_NS = f"{PREFIX}-private"
POD_LABEL = "app.kubernetes.io/name=wasm-operator"


class Kubectl:
    def __init__(self, kube_bin, kubeconfig):
        self.base = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", kubeconfig]

    def __call__(self, *args, input=None, check=False, timeout=180):
        return subprocess.run(self.base + list(args), input=input, capture_output=True, text=True,
                              check=check, timeout=timeout)

    def json(self, *args):
        got = self(*args, "-o", "json")
        return json.loads(got.stdout) if got.returncode == 0 else {}


def host_pods(kubectl):
    """{name: pod} of the host's Pods that are not being deleted."""
    items = kubectl.json("-n", NS, "get", "pods", "-l", POD_LABEL).get("items", [])
    return {p["metadata"]["name"]: p for p in items if not p["metadata"].get("deletionTimestamp")}


def ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions", []))


def run_pod(kubectl, name, service_account, args, timeout=60):
    """Runs the client image (kubectl) once as service_account in the host's namespace, with
    the settings its restricted enforcement demands; returns (exit code, log)."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS},
           "spec": {"serviceAccountName": service_account, "restartPolicy": "Never",
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{"name": "client", "image": "localhost/wop-client:dev",
                                    "imagePullPolicy": "Never",
                                    "command": ["/usr/local/bin/kubectl"] + args,
                                    "securityContext": {"allowPrivilegeEscalation": False,
                                                        "readOnlyRootFilesystem": True,
                                                        "capabilities": {"drop": ["ALL"]}}}]}}
    kubectl("-n", NS, "delete", "pod", name, "--ignore-not-found", "--wait=true")
    created = kubectl("apply", "-f", "-", input=json.dumps(pod))
    if created.returncode != 0:
        return None, created.stderr

    def finished():
        phase = kubectl.json("-n", NS, "get", "pod", name).get("status", {}).get("phase")
        return phase in ("Succeeded", "Failed") and phase
    phase = harness.eventually(finished, timeout, 0.5)
    log = kubectl("-n", NS, "logs", name).stdout + kubectl("-n", NS, "logs", name).stderr
    state = kubectl.json("-n", NS, "get", "pod", name).get("status", {}).get("containerStatuses", [{}])
    code = ((state[0].get("state") or {}).get("terminated") or {}).get("exitCode")
    kubectl("-n", NS, "delete", "pod", name, "--wait=false")
    return (code if phase else None), log


def install(kubectl, checks):
    started = time.monotonic()
    applied = kubectl("apply", "-k", os.path.join(ROOT, "deploy", "default"))
    checks.check("kubectl apply -k deploy/default", applied.returncode == 0, applied.stderr)
    available = kubectl("-n", NS, "wait", "--for=condition=Available", "deployment/wasm-operator",
                        "--timeout=150s", timeout=170)
    pods = host_pods(kubectl)
    checks.check("both host Pods are Ready on the node", available.returncode == 0 and len(pods) == 2
                 and all(ready(p) for p in pods.values()),
                 f"{available.stderr} {[(n, p.get('status', {}).get('phase')) for n, p in pods.items()]}")
    print(f"     install to 2 Ready Pods: {time.monotonic() - started:.1f} s", flush=True)
    return pods


def module_objects():
    """The ring's and the replicator's modules in one ConfigMap, and a Role that lets exactly
    their ServiceAccounts read it (the host reads it as each operator)."""
    binary = {}
    for name in ("ring", "replicator"):
        with open(os.path.join(BUILD, "wasm", f"{name}.wasm"), "rb") as f:
            binary[f"{name}.wasm"] = base64.b64encode(f.read()).decode()
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": MODULES, "namespace": MODULES_NS}, "binaryData": binary},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": MODULES, "namespace": MODULES_NS},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                    "resourceNames": [MODULES]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": MODULES, "namespace": MODULES_NS},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": MODULES},
         "subjects": [{"kind": "Group", "name": "system:serviceaccounts:wasm-operators-ring",
                       "apiGroup": "rbac.authorization.k8s.io"},
                      {"kind": "ServiceAccount", "name": "replicator", "namespace": MODULES_NS}]},
    ]


def wasm_operators():
    docs = [json.loads(d) for d in definitions(BUILD, PREFIX, 3).split("\n---\n") if d.strip()]
    for d in docs:
        key = "replicator.wasm" if d["metadata"]["name"] == "replicator" else "ring.wasm"
        d["spec"]["module"] = {"configMapRef": {"namespace": MODULES_NS, "name": MODULES, "key": key}}
    return docs


def leader(api):
    return harness.lease_holder(api, LEASE)


def main():
    global BUILD
    BUILD, kube_bin = sys.argv[1], sys.argv[2]
    checks = harness.Checks()
    env = harness.Environment(BUILD, kube_bin, PREFIX)  # the ring's CRD and the operators' RBAC
    kubectl = Kubectl(kube_bin, env.kubeconfig)
    api = env.api
    docs = wasm_operators()
    try:
        pods = install(kubectl, checks)
        holder = harness.eventually(lambda: leader(api), 60)
        checks.check("one host Pod holds the leader Lease", bool(holder) and any(
            holder.startswith(n + "_") for n in pods), (holder, list(pods)))

        applied = kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                          input=json.dumps({"apiVersion": "v1", "kind": "List", "items": module_objects()}))
        checks.check("the modules' ConfigMap and its Role are applied", applied.returncode == 0, applied.stderr)
        workload = env.workload(n=3, sources=2, rounds=30, changes=120, window_s=20.0)
        for d in docs:
            api.request("DELETE", path(d["metadata"]["name"]), ok=(200, 202, 404))
        harness.eventually(lambda: not any(status_of(api, d["metadata"]["name"]) for d in docs), 20)
        for d in docs:
            api.post(COLLECTION, d)
        ok, startup = workload.wait_ready(120)
        checks.check("the ring's nonce goes round and the copies appear", ok, f"{startup:.1f} s")
        running = harness.eventually(lambda: all(
            status_of(api, d["metadata"]["name"]).get("phase") == "Running" for d in docs), 30)
        checks.check("every WasmOperator is Running", bool(running),
                     {d["metadata"]["name"]: status_of(api, d["metadata"]["name"]).get("phase") for d in docs})

        # The leader Pod is deleted under load, as a rollout or a node drain deletes it.
        workload.start()
        time.sleep(4)
        holder = leader(api)
        victim = next((n for n in host_pods(kubectl) if holder.startswith(n + "_")), None)
        since = time.monotonic()
        deleted = kubectl("-n", NS, "delete", "pod", victim or "none", "--wait=false")
        checks.check("the leader Pod is deleted", victim is not None and deleted.returncode == 0,
                     (holder, deleted.stderr))
        took_over = harness.eventually(lambda: leader(api) and not leader(api).startswith((victim or "-") + "_"), 60)
        checks.check("the other replica takes the Lease", bool(took_over), leader(api))
        print(f"     Lease taken over {time.monotonic() - since:.1f} s after the delete", flush=True)
        workload.join()
        converged, result = await_convergence(api, workload, workload.done_at or time.monotonic(), 90)
        checks.check("nothing is lost: every ring round and replicated change arrived",
                     converged is not None and result["lost"] == 0, result)
        replaced = harness.eventually(lambda: len(host_pods(kubectl)) == 2 and victim not in host_pods(kubectl)
                                      and all(ready(p) for p in host_pods(kubectl).values()), 120, 1.0)
        checks.check("the ReplicaSet's new Pod becomes Ready", bool(replaced), list(host_pods(kubectl)))

        # The host's own identity, from inside a Pod.
        kubectl("create", "namespace", PRIVATE_NS)
        kubectl("-n", PRIVATE_NS, "create", "secret", "generic", "not-granted", "--from-literal=k=v")
        code, log = run_pod(kubectl, f"{PREFIX}-own", "wasm-operator", ["get", "wasmoperators", "-o", "name"])
        checks.check("a Pod as the host's ServiceAccount lists WasmOperators (in-cluster credentials)",
                     code == 0 and "wasmoperator.wasm-operator.dev/ring-0" in log, (code, log))
        code, log = run_pod(kubectl, f"{PREFIX}-secret", "wasm-operator",
                            ["-n", PRIVATE_NS, "get", "secret", "not-granted"])
        checks.check("the host's ServiceAccount may not read a Secret it was not granted",
                     code not in (0, None) and "Forbidden" in log, (code, log))
    finally:
        for d in docs:
            api.request("DELETE", path(d["metadata"]["name"]), ok=(200, 202, 404))
        kubectl("delete", "namespace", PRIVATE_NS, "--wait=false")
        kubectl("-n", NS, "delete", "deployment", "wasm-operator", "--wait=true", timeout=120)
        # The CRD last: its objects are gone by then.
        kubectl("delete", "-k", os.path.join(ROOT, "deploy", "default"), "--ignore-not-found",
                "--wait=true", timeout=120)
    checks.finish()


if __name__ == "__main__":
    main()
