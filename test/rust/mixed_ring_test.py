#!/usr/bin/env python3
"""The Rust ring (operators/ring-rust) beside the C++ ring (operators/ring) in one host, on the
real control plane of the CTest fixture: a ring of four hops, C++ -> Rust -> C++ -> Rust, each
operator acting as its own ServiceAccount. The nonce goes round several times; swapping is on
with no idle period, so every operator, the Rust ones included, is snapshotted after each hop
and restored from its snapshot for the next one. Then a nonce written lower into the middle of
the ring is not carried on (nonces only go forward), and each kind of module's linear memory
and snapshot size is printed for docs/sdk-rust.md.

  /usr/bin/python3 test/rust/mixed_ring_test.py BUILD KUBE_BIN
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "chaos"))
from kube import TESTRESOURCES, Api, ApiError  # noqa: E402

CRD = os.path.join(ROOT, "deploy", "crds", "testresources.yaml")
RBAC = os.path.join(ROOT, "deploy", "rbac", "example-operators.yaml")
PREFIX = "mixed"
MODULES = ["ring.wasm", "ring-rust.wasm", "ring.wasm", "ring-rust.wasm"]  # hop i: ring-i -> ring-(i+1)
N = len(MODULES)
ROUNDS = 5
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def namespace(i):
    return f"{PREFIX}-ring-{i % N}"


def path(i, name="ring"):
    return f"{TESTRESOURCES}/namespaces/{namespace(i)}/testresources/{name}"


def definitions(build):
    docs = []
    for i, module in enumerate(MODULES):
        docs.append({"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
                     "metadata": {"name": f"{PREFIX}-{i}-{module.split('.')[0]}"},
                     "spec": {"module": {"path": os.path.join(build, "wasm", module)},
                              "serviceAccount": {"namespace": "wasm-operators-ring", "name": f"{PREFIX}-{i}"},
                              "config": {"inputNamespace": namespace(i), "outputNamespace": namespace(i + 1)}}})
    return "\n---\n".join(json.dumps(d) for d in docs) + "\n"


def nonce(api, i):
    try:
        return api.get(path(i))["spec"]["nonce"]
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def wait_nonce(api, i, value, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if nonce(api, i) == value:
            return True
        time.sleep(0.05)
    return False


def read_status(status_file):
    try:
        with open(status_file) as f:
            return {o["name"]: o for o in json.load(f)["operators"]}
    except (OSError, ValueError, KeyError):
        return {}


class Checks:
    def __init__(self):
        self.failures = 0

    def check(self, name, ok, detail=""):
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
        self.failures += 0 if ok else 1
        return ok


def main():
    build, kube_bin = os.path.abspath(sys.argv[1]), sys.argv[2]
    plane = os.environ.get("WOP_TESTENV_DIR") or os.path.join(build, "controlplane")
    kubeconfig = os.path.join(plane, "kubeconfig")
    kubectl = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", kubeconfig]
    subprocess.run(kubectl + ["apply", "-f", CRD, "-f", RBAC], check=True, capture_output=True)
    subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/testresources.bench.wasm-operator.dev"],
                   check=True, capture_output=True)
    api = Api(kubeconfig)
    for i in range(N):
        api.create_namespace(namespace(i))
        try:
            api.request("DELETE", path(i))  # a run before this one may have left its objects
        except ApiError as e:
            if e.status != 404:
                raise

    workdir = tempfile.mkdtemp(prefix="wop-mixed-ring-")
    operators = os.path.join(workdir, "operators.yaml")
    with open(operators, "w") as f:
        f.write(definitions(build))
    status_file = os.path.join(workdir, "status.json")
    log_path = os.path.join(workdir, "host.log")
    argv = [os.path.join(build, "host", "wasm-operator"), "run", "--kubeconfig", kubeconfig,
            "--operators", operators, "--status-file", status_file,
            "--artifact-dir", os.path.join(workdir, "artifacts"),
            "--swap", "on", "--swap-dir", os.path.join(workdir, "swap"), "--swap-idle-ms", "0",
            "--swap-predict", "off", "--metrics-bind-address", "0", "--health-probe-bind-address", "0"]
    os.makedirs(os.path.join(workdir, "swap"))
    checks = Checks()
    failed = None
    with open(log_path, "wb") as log:
        host = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=lambda: _libc.prctl(1, signal.SIGKILL))  # dies with us
    try:
        deadline = time.monotonic() + 60
        while len(read_status(status_file)) < N and host.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if not checks.check("the host loaded the C++ and the Rust rings", len(read_status(status_file)) == N,
                            f"host exit code {host.poll()}, status: {list(read_status(status_file))}"):
            raise RuntimeError("the host did not load the operators")

        api.post(f"{TESTRESOURCES}/namespaces/{namespace(0)}/testresources",
                 {"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
                  "metadata": {"name": "ring"}, "spec": {"nonce": 1}})
        for j in range(1, ROUNDS + 1):
            if j > 1:
                api.merge_patch(path(0), {"spec": {"nonce": j}})
            reached = wait_nonce(api, N - 1, j, timeout=60 if j == 1 else 20)
            checks.check(f"nonce {j} went round C++ -> Rust -> C++ -> Rust",
                         reached and all(nonce(api, i) == j for i in range(N)),
                         f"nonces: {[nonce(api, i) for i in range(N)]}")

        # A lower nonce written into ring-1 (read by a Rust hop) must not lower ring-2.
        api.merge_patch(path(1), {"spec": {"nonce": 1}})
        time.sleep(2)
        checks.check("a lower nonce is not carried on by the Rust hop", nonce(api, 2) == ROUNDS,
                     f"ring-2 holds {nonce(api, 2)}")
        api.merge_patch(path(0), {"spec": {"nonce": ROUNDS + 1}})
        checks.check("the ring recovers with a higher nonce", wait_nonce(api, N - 1, ROUNDS + 1),
                     f"nonces: {[nonce(api, i) for i in range(N)]}")

        time.sleep(1.5)  # one more status write
        status = read_status(status_file)
        for name, s in sorted(status.items()):
            swap = s.get("swap", {})
            checks.check(f"{name}: reconciled without errors or restarts, swapped out and restored",
                         s["reconcileErrors"] == 0 and s["restarts"] == 0 and swap.get("swappable")
                         and swap.get("swapOuts", 0) > 0 and swap.get("restores", 0) > 0,
                         json.dumps({k: s.get(k) for k in ("state", "reconciles", "reconcileErrors", "restarts",
                                                             "lastError", "swap")}))
            print(f"     {name}: linear memory {s['memoryBytes']} B, snapshot {swap.get('snapshotBytes')} B, "
                  f"last restore {swap.get('lastRestoreMs')} ms, reconciles {s['reconciles']}", flush=True)
    except (RuntimeError, ApiError) as e:
        failed = e
    finally:
        host.send_signal(signal.SIGTERM)
        try:
            host.wait(timeout=30)
        except subprocess.TimeoutExpired:
            host.kill()
            host.wait()
    if failed:
        print(f"FAIL stopped early: {failed}")
    if checks.failures or failed:
        with open(log_path, "rb") as f:
            print("---- host log (last 40 lines)\n" + "\n".join(f.read().decode(errors="replace").splitlines()[-40:]))
        print(f"host files kept in {workdir}")
        sys.exit(1)
    shutil.rmtree(workdir, ignore_errors=True)
    print("all checks passed")


if __name__ == "__main__":
    main()
