#!/usr/bin/env python3
"""`make demo` (foundation stage): starts the local control plane, installs the TestResource
CRD, creates an object, hands that object as the API server returned it to a C++ guest
compiled to wasm32-wasi and run by the host binary through Wasmtime, and prints a summary.
The runtime issue turns this into the real demo (operators reconciling).

  demo.py --build BUILD_DIR [--keep]   --keep leaves the control plane running
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTROLPLANE = os.path.join(ROOT, "testenv", "controlplane.py")


def read_deps(build):
    deps = {}
    with open(os.path.join(build, "deps.cmake")) as f:
        for line in f:
            m = re.match(r'set\((\w+) "([^"]*)"', line)
            if m:
                deps[m.group(1)] = m.group(2)
    return deps


def run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"demo: {' '.join(argv[:3])} ... failed: {result.stderr.strip()}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    kubectl = os.path.join(deps["WOP_KUBE_BIN"], "kubectl")
    host = os.path.join(build, "host", "wasm-operator")
    guest = os.path.join(build, "wasm", "json_roundtrip.wasm")

    plane = tempfile.mkdtemp(prefix="wop-demo-")
    print(f"Starting a local control plane (etcd {deps['WOP_ETCD_VERSION']}, "
          f"kube-apiserver and kube-controller-manager {deps['WOP_KUBERNETES_VERSION']}) ...")
    started = time.monotonic()
    run([sys.executable, CONTROLPLANE, "start", "--replace", "--dir", plane,
         "--bin", deps["WOP_KUBE_BIN"], "--owner-pid", str(os.getpid())])
    startup_s = time.monotonic() - started
    kubeconfig = os.path.join(plane, "kubeconfig")
    kc = [kubectl, "--kubeconfig", kubeconfig]
    try:
        run(kc + ["apply", "-f", os.path.join(ROOT, "deploy", "crds", "testresources.yaml")])
        run(kc + ["wait", "--for=condition=Established", "--timeout=60s",
                  "crd/testresources.bench.wasm-operator.dev"])
        run(kc + ["create", "namespace", "ring-0"])
        manifest = {"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
                    "metadata": {"name": "hello", "namespace": "ring-0"}, "spec": {"nonce": 1}}
        run(kc + ["apply", "-f", "-"], input=json.dumps(manifest))
        stored = run(kc + ["get", "-n", "ring-0", "testresource", "hello", "-o", "json"])

        called = time.monotonic()
        output = run([host, "call", "--module", guest, "--export", "roundtrip"], input=stored)
        call_ms = (time.monotonic() - called) * 1000
        annotated = json.loads(output)
        version = run([host, "version"]).strip()
        denied = subprocess.run(
            [kubectl, "--kubeconfig", os.path.join(plane, "kubeconfig-unprivileged"),
             "get", "secrets", "-n", "default"], capture_output=True, text=True)

        print()
        print("wasm-operator demo (foundation)")
        print("-------------------------------")
        print(f"host binary        : {version}")
        print(f"control plane      : ready in {startup_s:.1f} s, kubeconfig {kubeconfig}")
        print(f"CRD                : testresources.bench.wasm-operator.dev Established")
        print(f"object             : ring-0/hello nonce={annotated['spec']['nonce']} "
              f"resourceVersion={annotated['metadata']['resourceVersion']}")
        print(f"wasm guest         : {os.path.basename(guest)} ({os.path.getsize(guest)} bytes) "
              f"parsed and re-serialised the object in {call_ms:.0f} ms (process start included)")
        print(f"guest annotation   : wasm-operator.dev/seen-by="
              f"{annotated['metadata']['annotations']['wasm-operator.dev/seen-by']}")
        print(f"RBAC               : unprivileged user denied secrets: "
              f"{'yes' if denied.returncode != 0 and 'forbidden' in denied.stderr else 'NO'}")
    finally:
        if args.keep:
            print(f"\ncontrol plane left running; stop it with:\n  python3 {CONTROLPLANE} stop --dir {plane}")
        else:
            subprocess.run([sys.executable, CONTROLPLANE, "stop", "--dir", plane])
            print("control plane stopped")


if __name__ == "__main__":
    main()
