#!/usr/bin/env python3
"""The WasmOperator API (issue 13, part 1) as the real API server serves it: deploy/crds/
wasmoperators.yaml is applied with kubectl; valid objects are stored with their defaults,
each invalid one is refused with the message its schema or CEL rule gives, status is written
only through the status subresource, and `kubectl get wasmoperators` prints the columns.

  /usr/bin/python3 test/api/wasmoperator_crd_test.py BUILD KUBE_BIN"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
import harness  # noqa: E402
from kube import ApiError  # noqa: E402

CRD = os.path.join(ROOT, "deploy", "crds", "wasmoperators.yaml")
COLLECTION = "/apis/wasm-operator.dev/v1alpha1/wasmoperators"
SHA = "ab" * 32


def wasm_operator(name, **spec):
    return {"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator", "metadata": {"name": name},
            "spec": spec}


def create(api, obj):
    """(stored object, None) or (None, the refusal's text)."""
    try:
        return api.post(COLLECTION, obj), None
    except ApiError as e:
        return None, str(e)


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    plane = os.environ.get("WOP_TESTENV_DIR") or os.path.join(build, "controlplane")
    kubeconfig = os.path.join(plane, "kubeconfig")
    kubectl = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", kubeconfig]
    checks = harness.Checks()
    applied = subprocess.run(kubectl + ["apply", "-f", CRD], capture_output=True, text=True)
    checks.check("kubectl apply of the CRD", applied.returncode == 0, applied.stderr)
    subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/wasmoperators.wasm-operator.dev"],
                   check=True, capture_output=True)
    api = harness.Api(kubeconfig)
    names = []

    def delete_all():
        for n in names:
            api.request("DELETE", f"{COLLECTION}/{n}", ok=(200, 202, 404))

    try:
        good = wasm_operator("crd-good", module={"path": "/opt/ring.wasm"},
                             serviceAccount={"namespace": "ops", "name": "ring"}, config={"any": ["thing", 1]})
        names.append("crd-good")
        stored, refusal = create(api, good)
        ok = stored is not None
        checks.check("a valid WasmOperator is stored", ok, refusal)
        if ok:
            checks.check("defaults: trusted false", stored["spec"].get("trusted") is False, stored["spec"])
            checks.check("free-form config is kept as written", stored["spec"]["config"] == {"any": ["thing", 1]},
                         stored["spec"])
        with_limits = wasm_operator("crd-limits", module={"url": "https://example.test/m.wasm", "sha256": SHA},
                                    trusted=True, limits={"memoryMiB": 16})
        names.append("crd-limits")
        stored, refusal = create(api, with_limits)
        checks.check("a trusted operator from a url with its sha256 is stored, limits defaulted",
                     stored is not None and stored["spec"]["limits"] == {"memoryMiB": 16, "entryTimeoutMs": 1000},
                     refusal or stored["spec"])

        with_hosts = wasm_operator("crd-hosts", module={"path": "/a.wasm"}, trusted=True,
                                   allowedHosts=["https://api.example.com", "https://*.example.com:8443",
                                                 "https://[2001:db8::1]:*"])
        names.append("crd-hosts")
        stored, refusal = create(api, with_hosts)
        checks.check("allowedHosts in the https://HOST[:PORT] shape are stored",
                     stored is not None and len(stored["spec"]["allowedHosts"]) == 3, refusal or stored)

        sa = {"namespace": "ops", "name": "ring"}
        refused = [
            ("an allowed host over http", dict(module={"path": "/a.wasm"}, serviceAccount=sa,
                                               allowedHosts=["http://api.example.com"]), "spec.allowedHosts"),
            ("an allowed host with a path", dict(module={"path": "/a.wasm"}, serviceAccount=sa,
                                                 allowedHosts=["https://api.example.com/v1"]), "spec.allowedHosts"),
            ("an allowed host with a user", dict(module={"path": "/a.wasm"}, serviceAccount=sa,
                                                 allowedHosts=["https://u@api.example.com"]), "spec.allowedHosts"),
            ("no module source", dict(module={}, serviceAccount=sa), "exactly one of image, configMapRef, url or path"),
            ("two module sources", dict(module={"path": "/a.wasm", "image": "r.test/m:1"}, serviceAccount=sa),
             "exactly one of image, configMapRef, url or path"),
            ("a url without sha256", dict(module={"url": "https://example.test/m.wasm"}, serviceAccount=sa),
             "a module from a url needs its sha256"),
            ("a plain http url", dict(module={"url": "http://example.test/m.wasm", "sha256": SHA}, serviceAccount=sa),
             "url must be https://"),
            ("a malformed sha256", dict(module={"path": "/a.wasm", "sha256": "XYZ"}, serviceAccount=sa),
             "spec.module.sha256"),
            ("no ServiceAccount and not trusted", dict(module={"path": "/a.wasm"}),
             "spec.serviceAccount is required unless spec.trusted is true"),
            ("trusted with a ServiceAccount", dict(module={"path": "/a.wasm"}, trusted=True, serviceAccount=sa),
             "a trusted operator acts as the host"),
            ("memory above the cap", dict(module={"path": "/a.wasm"}, serviceAccount=sa, limits={"memoryMiB": 5000}),
             "spec.limits.memoryMiB"),
            ("a ConfigMap reference without its key",
             dict(module={"configMapRef": {"namespace": "ops", "name": "m"}}, serviceAccount=sa), "key"),
            ("a module as a bare string (the old file form)", dict(module="/a.wasm", serviceAccount=sa),
             "spec.module"),
        ]
        for i, (what, spec, says) in enumerate(refused):
            name = f"crd-bad-{i}"
            names.append(name)
            stored, refusal = create(api, wasm_operator(name, **spec))
            checks.check(f"refused: {what}", stored is None and refusal and says in refusal, refusal or stored)

        # Status only through its subresource; the main resource ignores it.
        api.merge_patch(f"{COLLECTION}/crd-good", {"status": {"phase": "Running"}})
        checks.check("status is not written through the main resource",
                     "status" not in api.get(f"{COLLECTION}/crd-good") or
                     api.get(f"{COLLECTION}/crd-good")["status"].get("phase") != "Running")
        status = {"status": {"observedGeneration": 1, "phase": "Running", "memory": "Swapped",
                             "moduleDigest": "sha256:" + SHA, "restarts": 2, "reconciles": 10,
                             "conditions": [{"type": "Ready", "status": "True", "reason": "Running",
                                             "message": "reconciling", "observedGeneration": 1,
                                             "lastTransitionTime": "2026-12-03T07:00:00Z"}]}}
        try:
            api.request("PATCH", f"{COLLECTION}/crd-good/status", status,
                        content_type="application/merge-patch+json", ok=(200,))
            patched = True
        except ApiError as e:
            patched = str(e)
        checks.check("status is written through the status subresource", patched is True, patched)
        try:
            api.request("PATCH", f"{COLLECTION}/crd-good/status", {"status": {"phase": "Dancing"}},
                        content_type="application/merge-patch+json", ok=(200,))
            bad_phase = None
        except ApiError as e:
            bad_phase = str(e)
        checks.check("a phase outside the enum is refused", bad_phase and "phase" in bad_phase, bad_phase)

        table = subprocess.run(kubectl + ["get", "wasmoperators"], capture_output=True, text=True)
        header = table.stdout.splitlines()[0].split() if table.stdout else []
        checks.check("kubectl get wasmoperators prints digest, phase, memory, restarts, age",
                     header == ["NAME", "DIGEST", "PHASE", "MEMORY", "RESTARTS", "AGE"], table.stdout + table.stderr)
        row = next((line.split() for line in table.stdout.splitlines() if line.startswith("crd-good ")), [])
        checks.check("the row shows the status", row[1:5] == ["sha256:" + SHA, "Running", "Swapped", "2"], row)
        short = subprocess.run(kubectl + ["get", "wop", "crd-good", "-o", "name"], capture_output=True, text=True)
        checks.check("the short name wop works", short.stdout.strip() == "wasmoperator.wasm-operator.dev/crd-good",
                     short.stdout + short.stderr)
    finally:
        delete_all()
    checks.finish()


if __name__ == "__main__":
    main()
