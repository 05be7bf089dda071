#!/usr/bin/env python3
"""docs/sdk.md's guide, run: the SDK installed, examples/out-of-tree built as a project of its
own, its RBAC applied to the fixture's control plane, greeter.wasm loaded by `wasm-operator run
--operators greeter-operator.yaml` (file mode), a labelled ConfigMap greeted, the Event written
and the reconcile counted on /metrics.

usage: out_of_tree_run_test.py SOURCE_DIR BUILD_DIR CXX_COMPILER MAKE_PROGRAM KUBE_BIN
(WOP_TESTENV_DIR: the control plane of the CTest fixture)
"""
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def run(*command, **kwargs):
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(check, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except (subprocess.CalledProcessError, OSError):
            pass
        time.sleep(0.2)
    return False


def main():
    source, build, cxx, make_program, kube_bin = sys.argv[1:6]
    env = dict(os.environ, KUBECONFIG=os.path.join(os.environ["WOP_TESTENV_DIR"], "kubeconfig"))
    kubectl = os.path.join(kube_bin, "kubectl")
    with tempfile.TemporaryDirectory(prefix="wop-guide-") as tmp:
        prefix, project = pathlib.Path(tmp) / "prefix", pathlib.Path(tmp) / "greeter"
        shutil.copytree(f"{source}/examples/out-of-tree", project)
        run("cmake", "--install", build, "--component", "sdk", "--prefix", str(prefix))
        run("cmake", "-S", str(project), "-B", str(project / "build"), "-G", "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={make_program}", f"-DCMAKE_CXX_COMPILER={cxx}",
            f"-DCMAKE_PREFIX_PATH={prefix}", "-DBUILD_TESTING=OFF")
        run("cmake", "--build", str(project / "build"), "--target", "greeter")
        run(kubectl, "apply", "-f", str(project / "rbac.yaml"), env=env)
        ns = "guide-greeter"
        subprocess.run([kubectl, "delete", "namespace", ns, "--wait=true", "--ignore-not-found"],
                       env=env, capture_output=True)
        run(kubectl, "create", "namespace", ns, env=env)
        metrics, probes = free_port(), free_port()
        with open(pathlib.Path(tmp) / "host.log", "w+") as log:
            host = subprocess.Popen(
                [f"{build}/host/wasm-operator", "run", "--operators",
                 str(project / "greeter-operator.yaml"),
                 "--metrics-bind-address", f"127.0.0.1:{metrics}",
                 "--health-probe-bind-address", f"127.0.0.1:{probes}",
                 "--artifact-dir", f"{tmp}/artifacts", "--swap-dir", f"{tmp}/snapshots"],
                env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                ready = eventually(lambda: urllib.request.urlopen(
                    f"http://127.0.0.1:{probes}/readyz", timeout=2).status == 200)
                run(kubectl, "-n", ns, "create", "configmap", "world", "--from-literal=k=v", env=env)
                run(kubectl, "-n", ns, "label", "configmap", "world", "greeter.example.dev/greet=true",
                    env=env)
                greeted = eventually(lambda: run(
                    kubectl, "-n", ns, "get", "configmap", "world", "-o",
                    "jsonpath={.data.greeting}", env=env) == "hello, world")
                event = eventually(lambda: "Greeted" in run(
                    kubectl, "-n", ns, "get", "events", "--field-selector", "reason=Greeted", env=env))
                counted = eventually(lambda: 'controller_runtime_reconcile_total{controller="greeter",'
                                     'result="success"} 0' not in urllib.request.urlopen(
                                         f"http://127.0.0.1:{metrics}/metrics", timeout=2).read().decode())
            finally:
                host.terminate()
                host.wait(timeout=60)
                log.seek(0)
                print(log.read())
        subprocess.run([kubectl, "delete", "namespace", ns, "--wait=false"], env=env,
                       capture_output=True)
    failures = [what for what, ok in [("host ready", ready), ("ConfigMap greeted", greeted),
                                      ("Event Greeted", event), ("reconcile counted", counted)]
                if not ok]
    if failures:
        print("FAIL: " + ", ".join(failures))
        return 1
    print("greeter loaded from files, reconciled a ConfigMap, wrote its Event, counted on /metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
