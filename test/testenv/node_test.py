#!/usr/bin/env python3
"""The test node script itself (testenv/node.py), against the fixture's control plane:
it starts and the Node is Ready; the kubelet refuses a client without a certificate; a second
node is refused with one clear line; a Pod runs, reaches the API server through the
`kubernetes` Service with TLS verified, and its log is read through the API server (which
verifies the kubelet's certificate); and when the owner process dies, the watchdog stops the
node and the machine is as before (sysctls, iptables, bridge, cgroups, mounts, fixed paths,
processes), checked by node.py's own comparison with what it recorded at start.

  /usr/bin/python3 test/testenv/node_test.py BUILD KUBE_BIN"""
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "testenv"))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
import harness  # noqa: E402
import node  # noqa: E402

NODE = [sys.executable, os.path.join(ROOT, "testenv", "node.py")]


def kubelet_status_without_certificate():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(f"https://{node.NODE_IP}:{node.KUBELET_PORT}/pods", context=ctx,
                                    timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    checks = harness.Checks()
    plane = os.environ.get("WOP_TESTENV_DIR") or os.path.join(build, "controlplane")
    kubeconfig = os.path.join(plane, "kubeconfig")
    kubectl = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", kubeconfig]
    images = os.path.join(build, "image")
    built = subprocess.run(["bash", os.path.join(ROOT, "scripts", "build-image.sh"), build, images],
                           capture_output=True, text=True)
    checks.check("the images build", built.returncode == 0, built.stderr[-500:])
    folder = tempfile.mkdtemp(prefix="wop-node-")
    before = {"sysctls": node.read_sysctls(),
              "paths": [p for p in node.FIXED_PATHS if os.path.lexists(p)],
              "iptables": {t: node.normalized_rules(subprocess.run([t + "-save"], capture_output=True,
                                                                   text=True).stdout) for t in node.IPTABLES}}
    owner = subprocess.Popen(["sleep", "600"])
    try:
        started = time.monotonic()
        got = subprocess.run(NODE + ["start", "--dir", folder, "--controlplane", plane, "--images", images,
                                     "--owner-pid", str(owner.pid)], capture_output=True, text=True)
        checks.check("node.py start: the Node is Ready", got.returncode == 0, got.stderr)
        print(f"     start to Ready: {time.monotonic() - started:.1f} s", flush=True)
        status = subprocess.run(NODE + ["status", "--dir", folder], capture_output=True, text=True)
        checks.check("node.py status says ready", status.returncode == 0 and "ready" in status.stdout,
                     status.stderr)
        checks.check("the kubelet refuses a client without a certificate (401)",
                     kubelet_status_without_certificate() == 401)
        other = subprocess.run(NODE + ["start", "--dir", folder + "-2", "--controlplane", plane],
                               capture_output=True, text=True)
        checks.check("a second node is refused with one line naming the first",
                     other.returncode == 1 and "a node already runs" in other.stderr and folder in other.stderr
                     and len(other.stderr.strip().splitlines()) == 1, other.stderr)

        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "node-test", "namespace": "default"},
               "spec": {"restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "localhost/wop-client:dev",
                                        "imagePullPolicy": "Never",
                                        "command": ["/usr/local/bin/kubectl", "get", "--raw", "/version"]}]}}
        subprocess.run(kubectl + ["delete", "pod", "node-test", "--ignore-not-found"], capture_output=True)
        subprocess.run(kubectl + ["apply", "-f", "-"], input=json.dumps(pod), capture_output=True, text=True)

        def phase():
            got = subprocess.run(kubectl + ["get", "pod", "node-test", "-o", "jsonpath={.status.phase}"],
                                 capture_output=True, text=True)
            return got.stdout in ("Succeeded", "Failed") and got.stdout
        done = harness.eventually(phase, 90, 0.5)
        log = subprocess.run(kubectl + ["logs", "node-test"], capture_output=True, text=True)
        checks.check("a Pod reaches the API server through the kubernetes Service, TLS verified",
                     done == "Succeeded" and '"gitVersion": "v' in log.stdout, (done, log.stdout, log.stderr))
        subprocess.run(kubectl + ["delete", "pod", "node-test", "--wait=false"], capture_output=True)

        owner.kill()
        owner.wait()
        gone = harness.eventually(lambda: not os.path.exists(node.LOCK) and not os.path.exists(folder), 60, 0.5)
        checks.check("the owner's death stops the node (the watchdog)", bool(gone))
        left = node.leftovers({"dir": folder, "pids": {}, "containerd_socket": "/nonexistent",
                               "sysctls_before": before["sysctls"], "fixed_paths_before": before["paths"]})
        for tool in node.IPTABLES:
            now = node.normalized_rules(subprocess.run([tool + "-save"], capture_output=True, text=True).stdout)
            if now != before["iptables"][tool]:
                left.append(f"{tool} rules differ from before the node")
        checks.check("nothing of the node is left on the machine", not left, left)
    finally:
        if owner.poll() is None:
            owner.kill()
        subprocess.run(NODE + ["stop", "--dir", folder], capture_output=True)
    checks.finish()


if __name__ == "__main__":
    main()
