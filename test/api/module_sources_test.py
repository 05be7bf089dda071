#!/usr/bin/env python3
"""Each module source of a WasmOperator end to end (issue 13, part 3), against the real control
plane, a real docker-registry on loopback with TLS from the test CA and basic auth, modules
pushed by the real oras, and an HTTPS file server:

  - image by tag (the Wasm OCI artifact layout), with an imagePullSecret read as the
    operator's ServiceAccount; the tag resolved to a digest in status.resolvedImage;
  - an upgrade under load from a path to an image by digest (the older Kubewarden layout):
    the ring loses no round;
  - configMapRef (binaryData) and url + sha256;
  - refusals with their reason in status: a url whose bytes have another digest, a module
    above the 64 MiB limit, an image that is not Wasm, one of another ABI, a registry down, a
    registry that stalls (which holds up no other operator), no pull credentials; a
    WasmOperator without a ServiceAccount is refused by the API server itself;
  - a host restarted with the registry and file server gone loads the same modules from its
    store, by the digests its status recorded.

  /usr/bin/python3 test/api/module_sources_test.py BUILD KUBE_BIN"""
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
sys.path.insert(0, os.path.join(ROOT, "testenv"))
import harness  # noqa: E402
from checker import await_convergence  # noqa: E402
from registry import HttpsFileServer, Registry, push_wasm  # noqa: E402
from wasm_operators import COLLECTION, CRD, ClusterHost, condition, get, path, status_of  # noqa: E402

PREFIX = "api-src"
RING_NS = "wasm-operators-ring"  # the ring's ServiceAccounts (deploy/rbac/example-operators.yaml)
USER, PASSWORD = "robot", "pull-only-secret"


def ready(api, name):
    return condition(get(api, name), "Ready")


def wasm_operator(name, module, account=None):
    spec = {"module": module}
    if account:
        spec["serviceAccount"] = {"namespace": RING_NS, "name": account}
    else:
        spec["trusted"] = True
    return {"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
            "metadata": {"name": name}, "spec": spec}


def wrong_abi_module():
    """A valid Wasm module with a memory that exports wop_abi_version_99 and no v1 marker."""
    name = b"wop_abi_version_99"
    exports = b"\x02" + bytes([len(name)]) + name + b"\x00\x00" + b"\x06memory\x02\x00"
    sections = [(1, b"\x01\x60\x00\x00"), (3, b"\x01\x00"), (5, b"\x01\x00\x01"),
                (7, exports), (10, b"\x01\x02\x00\x0b")]
    return b"\0asm\1\0\0\0" + b"".join(bytes([i, len(body)]) + body for i, body in sections)


class StallingServer:
    """Accepts TCP connections and never answers: a registry that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    plane = os.environ.get("WOP_TESTENV_DIR") or os.path.join(build, "controlplane")
    pki = os.path.join(plane, "pki")
    checks = harness.Checks()
    env = harness.Environment(build, kube_bin, PREFIX)
    kubectl = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", env.kubeconfig]
    subprocess.run(kubectl + ["apply", "-f", CRD], check=True, capture_output=True)
    subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/wasmoperators.wasm-operator.dev"],
                   check=True, capture_output=True)
    api = env.api
    workload = env.workload(n=3, sources=2, rounds=20, changes=60, window_s=12.0)
    with open(env.operators) as f:
        ring_docs = [json.loads(d) for d in f.read().split("\n---\n") if d.strip()]
    ring_wasm = os.path.join(build, "wasm", "ring.wasm")
    with open(ring_wasm, "rb") as f:
        ring_bytes = f.read()
    ring_sha = hashlib.sha256(ring_bytes).hexdigest()
    counter_wasm = os.path.join(build, "wasm", "counter.wasm")
    with open(counter_wasm, "rb") as f:
        counter_bytes = f.read()
    not_wasm = os.path.join(env.workdir, "not-wasm.wasm")
    with open(not_wasm, "w") as f:
        f.write("this is not a WebAssembly module\n")
    wrong_abi = os.path.join(env.workdir, "wrong-abi.wasm")
    with open(wrong_abi, "wb") as f:
        f.write(wrong_abi_module())

    registry = Registry(users={USER: PASSWORD}, pki_dir=pki)
    registry.start()
    files = HttpsFileServer({"counter.wasm": counter_bytes, "huge.wasm": b"\0" * ((64 << 20) + 1)}, pki_dir=pki)
    files.start()
    stalling = StallingServer()
    tag_digest = push_wasm(registry, "ops/ring", "v1", ring_wasm, layout="wasm-oci")
    legacy_digest = push_wasm(registry, "ops/ring-legacy", "v1", ring_wasm, layout="legacy")
    push_wasm(registry, "ops/not-wasm", "v1", not_wasm)
    push_wasm(registry, "ops/wrong-abi", "v1", wrong_abi)

    # The pull Secret and the ConfigMap are read as the ring's ServiceAccounts: they may get
    # these two objects and nothing more.
    dockerconfig = json.dumps({"auths": {registry.address: {
        "auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}})
    objects = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{PREFIX}-pull", "namespace": RING_NS},
         "type": "kubernetes.io/dockerconfigjson",
         "data": {".dockerconfigjson": base64.b64encode(dockerconfig.encode()).decode()}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{PREFIX}-modules", "namespace": RING_NS},
         "binaryData": {"ring.wasm": base64.b64encode(ring_bytes).decode()}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": f"{PREFIX}-modules", "namespace": RING_NS},
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                    "resourceNames": [f"{PREFIX}-pull"]},
                   {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                    "resourceNames": [f"{PREFIX}-modules"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": f"{PREFIX}-modules", "namespace": RING_NS},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{PREFIX}-modules"},
         "subjects": [{"kind": "Group", "name": f"system:serviceaccounts:{RING_NS}",
                       "apiGroup": "rbac.authorization.k8s.io"}]},
    ]
    # Server-side: a client-side apply would copy the module into an annotation (256 KiB).
    applied = subprocess.run(kubectl + ["apply", "--server-side", "--force-conflicts", "-f", "-"], input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                                 "items": objects}),
                             capture_output=True, text=True)
    checks.check("the pull Secret, the module ConfigMap and their Role are applied", applied.returncode == 0,
                 applied.stderr)

    # ring-0 from an image by tag with the pull Secret; ring-2 from the ConfigMap; ring-1 and
    # the replicator from paths (ring-1 is upgraded to an image under load below).
    ring = {d["metadata"]["name"]: d for d in ring_docs}
    ring["ring-0"]["spec"]["module"] = {"image": registry.reference("ops/ring", "v1"),
                                        "imagePullSecrets": [{"name": f"{PREFIX}-pull"}]}
    ring["ring-2"]["spec"]["module"] = {"configMapRef": {"namespace": RING_NS, "name": f"{PREFIX}-modules",
                                                         "key": "ring.wasm"}}
    counter_sha = hashlib.sha256(counter_bytes).hexdigest()
    counter = wasm_operator(f"{PREFIX}-url", {"url": files.url("counter.wasm"), "sha256": counter_sha})
    counter["spec"]["config"] = {"namespace": f"{PREFIX}-counter"}
    refusals = {
        f"{PREFIX}-bad-digest": ({"url": files.url("counter.wasm"), "sha256": "0" * 64},
                                 "ModuleRefused", "its sha256 is " + counter_sha),
        f"{PREFIX}-oversize": ({"url": files.url("huge.wasm"), "sha256": "1" * 64},
                               "ModuleRefused", "larger than the limit of 67108864 bytes"),
        f"{PREFIX}-not-wasm": ({"image": registry.reference("ops/not-wasm", "v1"),
                                "imagePullSecrets": [{"name": f"{PREFIX}-pull"}]}, "ModuleRefused", "WebAssembly"),
        f"{PREFIX}-wrong-abi": ({"image": registry.reference("ops/wrong-abi", "v1"),
                                 "imagePullSecrets": [{"name": f"{PREFIX}-pull"}]}, "ModuleRefused", "ABI"),
        f"{PREFIX}-down": ({"image": "127.0.0.1:1/ops/ring:v1"}, "ModuleUnavailable", "127.0.0.1:1"),
        f"{PREFIX}-no-credentials": ({"image": registry.reference("ops/ring", "v1")},
                                     "ModuleUnavailable", "needs credentials: give imagePullSecrets"),
    }
    stalled = wasm_operator(f"{PREFIX}-stalled", {"image": f"127.0.0.1:{stalling.port}/ops/ring:v1"})
    names = list(ring) + [counter["metadata"]["name"], stalled["metadata"]["name"]] + list(refusals)
    for n in names:
        api.request("DELETE", path(n), ok=(200, 202, 404))
    harness.eventually(lambda: not any(get(api, n) for n in names), 20)

    host = ClusterHost(env.binary, env.kubeconfig, env.operators, os.path.join(env.workdir, "host"),
                       os.path.join(env.workdir, "host", "swap"), env.artifacts, 1.0)
    host.extra_args = ["--metrics-bind-address", "0", "--health-probe-bind-address", "0",
                       "--module-ca-file", registry.ca_file]
    os.makedirs(host.workdir, exist_ok=True)
    host.start()
    try:
        checks.check("the host runs the cluster's WasmOperators",
                     bool(harness.eventually(lambda: host.log_grep("running the cluster's WasmOperator objects"), 30)),
                     host.log_tail(5))
        # A WasmOperator without a ServiceAccount (and not trusted) never reaches the host.
        no_account = {"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
                      "metadata": {"name": f"{PREFIX}-no-account"}, "spec": {"module": {"path": ring_wasm}}}
        refused = subprocess.run(kubectl + ["apply", "-f", "-"], input=json.dumps(no_account),
                                 capture_output=True, text=True)
        checks.check("a WasmOperator without a ServiceAccount is refused by the API server",
                     refused.returncode != 0 and "spec.serviceAccount is required" in refused.stderr,
                     refused.stderr.strip())

        # The stalled registry first: it must hold up nobody else.
        api.post(COLLECTION, stalled)
        for d in list(ring.values()) + [counter]:
            api.post(COLLECTION, d)
        for n, (module, _, _) in refusals.items():
            # Pulls with ring-0's ServiceAccount, whose namespace holds the pull Secret.
            api.post(COLLECTION, wasm_operator(n, module, account="ring-0"))
        ok, startup = workload.wait_ready(90)
        checks.check("the ring (image, path, configMap sources) and the replicator reconcile", ok,
                     f"{startup:.1f} s")
        stalled_status = status_of(api, stalled["metadata"]["name"])
        checks.check("meanwhile the operator of the stalled registry is Pending, FetchingModule",
                     stalled_status.get("phase") == "Pending" and
                     ready(api, stalled["metadata"]["name"]).get("reason") == "FetchingModule", stalled_status)

        running = harness.eventually(lambda: all(status_of(api, n).get("phase") == "Running"
                                                 for n in list(ring) + [counter["metadata"]["name"]]), 30)
        ring0 = status_of(api, "ring-0")
        checks.check("image by tag: Running, the module's digest, the tag resolved to the manifest's digest",
                     running and ring0.get("moduleDigest") == "sha256:" + ring_sha and
                     ring0.get("resolvedImage") == registry.reference("ops/ring", tag_digest),
                     (ring_sha, registry.reference("ops/ring", tag_digest), ring0))
        ring2 = status_of(api, "ring-2")
        checks.check("configMapRef: Running with the module's digest",
                     ring2.get("phase") == "Running" and ring2.get("moduleDigest") == "sha256:" + ring_sha, ring2)
        url_status = status_of(api, counter["metadata"]["name"])
        checks.check("url + sha256: Running with the module's digest",
                     url_status.get("phase") == "Running" and
                     url_status.get("moduleDigest") == "sha256:" + counter_sha, url_status)

        for n, (_, reason, words) in refusals.items():
            c = harness.eventually(lambda n=n, reason=reason: ready(api, n).get("reason") == reason and ready(api, n),
                                   40)
            checks.check(f"{n[len(PREFIX) + 1:]}: refused, {reason}, the reason in status",
                         bool(c) and c.get("status") == "False" and words in c.get("message", "") and
                         status_of(api, n).get("phase") == "Refused", c or ready(api, n))
        c = harness.eventually(lambda: ready(api, stalled["metadata"]["name"]).get("reason") == "ModuleUnavailable"
                               and ready(api, stalled["metadata"]["name"]), 40)
        checks.check("the stalled registry times out: ModuleUnavailable, named",
                     bool(c) and str(stalling.port) in c.get("message", ""), c or status_of(api, stalled["metadata"]["name"]))

        # An upgrade under load: ring-1 from its path to the legacy-layout image by digest.
        workload.start()
        time.sleep(2)
        api.merge_patch(path("ring-1"), {"spec": {"module": {
            "path": None, "image": registry.reference("ops/ring-legacy", legacy_digest),
            "imagePullSecrets": [{"name": f"{PREFIX}-pull"}]}}})
        up = harness.eventually(lambda: status_of(api, "ring-1").get("observedGeneration") == 2 and
                                status_of(api, "ring-1"), 30)
        checks.check("an upgrade to an image by digest (older layout) under load: generation 2 Running",
                     bool(up) and up.get("phase") == "Running" and
                     up.get("resolvedImage") == registry.reference("ops/ring-legacy", legacy_digest), up)
        workload.join()
        converge_s, result = await_convergence(api, workload, workload.done_at, 60)
        checks.check("every ring round and replicated change arrived through the upgrade (0 lost)",
                     result["lost"] == 0, result)

        # Restart with the registry and the file server gone: the modules come from the store.
        def fetches():
            return len(host.log_grep("fetching the module from", limit=100000))

        host.stop()
        downloads, fetched_before = len(files.requests), fetches()
        registry.stop()
        files.stop()
        host.start()
        again = harness.eventually(lambda: all(
            (host.operator(n) or {}).get("state") == "Running" for n in ["ring-0", "ring-1", "ring-2"]), 60)
        checks.check("after a restart with the registry and file server gone, the image, configMap and url "
                     "operators run from the store", bool(again) and
                     (host.operator(counter["metadata"]["name"]) or {}).get("state") == "Running",
                     host.status())
        fetching_again = [line for line in host.log_grep("fetching the module from", limit=100000)[fetched_before:]
                          if PREFIX + "-" not in line]
        checks.check("no download was tried for them", len(files.requests) == downloads and not fetching_again,
                     fetching_again[:5])
        checks.check("the host did not crash", not host.crashes, host.crashes)
    finally:
        host.stop()
        workload.stop()
        stalling.close()
        registry.stop()
        files.stop()
        for n in names:
            try:
                api.request("DELETE", path(n), ok=(200, 202, 404))
            except Exception:  # noqa: BLE001 - best effort
                pass
        for kind, n in (("secrets", f"{PREFIX}-pull"), ("configmaps", f"{PREFIX}-modules")):
            api.request("DELETE", f"/api/v1/namespaces/{RING_NS}/{kind}/{n}", ok=(200, 202, 404))
    checks.finish()


if __name__ == "__main__":
    main()
