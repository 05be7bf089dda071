"""Shared set-up of the operations tests (metrics, health probes, leader election): the
control plane of the CTest fixture, the chaos suite's workload (a ring plus the replicator,
test/chaos/workload.py) and host processes started with flags of the test's choosing.

  /usr/bin/python3 test/ops/<name>_test.py BUILD KUBE_BIN

The control plane is the one `controlplane.start` left in $WOP_TESTENV_DIR. Debian's python3:
it has the python3-prometheus-client that scripts/setup-apt.sh installs."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "chaos"))
from kube import Api  # noqa: E402
from workload import Host, Workload, definitions  # noqa: E402

CRD = os.path.join(ROOT, "deploy", "crds", "testresources.yaml")
RBAC = os.path.join(ROOT, "deploy", "rbac", "example-operators.yaml")


# Every Environment's folder (hosts' logs, swap, artifacts): removed when the checks pass, kept
# (and named) when one fails or the test dies before finish(), for the logs.
_WORKDIRS = []


def scratch_folder(prefix):
    """A new folder under /tmp that Checks.finish removes when every check passed."""
    folder = tempfile.mkdtemp(prefix=f"wop-{prefix}-")
    _WORKDIRS.append(folder)
    return folder


class Checks:
    """Named checks, printed as they run; exit status 1 if any failed."""

    def __init__(self):
        self.failures = 0
        self.passed = 0

    def check(self, name, ok, detail=""):
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failures += 1
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failures} failed", flush=True)
        for workdir in _WORKDIRS:
            if self.failures:
                print(f"logs kept in {workdir}", flush=True)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        sys.exit(1 if self.failures else 0)


class Environment:
    def __init__(self, build, kube_bin, prefix):
        plane = os.environ.get("WOP_TESTENV_DIR") or os.path.join(build, "controlplane")
        self.build, self.kube_bin, self.prefix = build, kube_bin, prefix
        self.kubeconfig = os.path.join(plane, "kubeconfig")
        self.binary = os.path.join(build, "host", "wasm-operator")
        self.workdir = scratch_folder(prefix)
        self.artifacts = os.path.join(self.workdir, "artifacts")
        kubectl = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", self.kubeconfig]
        subprocess.run(kubectl + ["apply", "-f", CRD, "-f", RBAC], check=True, capture_output=True)
        subprocess.run(kubectl + ["wait", "--for=condition=Established",
                                  "crd/testresources.bench.wasm-operator.dev"], check=True, capture_output=True)
        self.api = Api(self.kubeconfig)

    def workload(self, n=3, sources=2, rounds=10, changes=40, window_s=6.0):
        w = Workload(self.api, self.prefix, n=n, sources=sources, rounds=rounds, changes=changes,
                     window_s=window_s, round_timeout_s=10.0)
        w.create_objects()
        operators = os.path.join(self.workdir, "operators.yaml")
        with open(operators, "w") as f:
            f.write(definitions(self.build, self.prefix, n))
        self.operators = operators
        return w

    def host(self, name, extra_args, restart_delay_s=1.0):
        workdir = os.path.join(self.workdir, name)
        os.makedirs(workdir, exist_ok=True)
        host = FlaggedHost(self.binary, self.kubeconfig, self.operators, workdir,
                           os.path.join(workdir, "swap"), self.artifacts, restart_delay_s)
        host.extra_args = list(extra_args)
        return host


class FlaggedHost(Host):
    """The chaos suite's supervised host with flags of the test's own after its usual ones."""

    extra_args = []

    def argv(self):
        return super().argv() + self.extra_args

    def logged_address(self, what, timeout=30):
        """The address the host logged for 'metrics' or 'health probes' (port 0 picks one)."""
        pattern = re.compile(what + r" at http://([^/\s\"]+)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_grep(what + " at http://", limit=100)[::-1]:
                m = pattern.search(line)
                if m:
                    return m.group(1)
            time.sleep(0.1)
        return None


def lease_path(name, namespace="default"):
    return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"


def lease_holder(api, path):
    """The Lease's holderIdentity; "" when it is absent, released or unreadable."""
    try:
        return api.get(path).get("spec", {}).get("holderIdentity") or ""
    except Exception:  # noqa: BLE001 - absent or unreachable: nobody known
        return ""


def wait_lease_holder(api, path, predicate, timeout, interval=0.02):
    """(seconds until the holder satisfies predicate, or None; the last holder seen)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        h = lease_holder(api, path)
        if predicate(h):
            return time.monotonic() - started, h
        time.sleep(interval)
    return None, lease_holder(api, path)


def campaign_identity(host):
    """The identity the host's current process campaigns as (its log says)."""
    lines = host.log_grep("campaigning as ", limit=1000)
    return lines[-1].split("campaigning as ", 1)[1].split('"')[0].split()[0] if lines else None


def http_get(address, path, timeout=5):
    """(status, body) of GET http://address/path; status None when it could not connect."""
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


def http_post(address, path, timeout=5):
    """The status of a POST (the endpoints take GET and HEAD only)."""
    request = urllib.request.Request(f"http://{address}{path}", data=b"x", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def eventually(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def slow_client(address):
    """A connection that sends half a request line and then nothing (a slowloris)."""
    host, port = address.rsplit(":", 1)
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
    s.sendall(b"GET /met")
    return s


def log_lines(path):
    """The host's log lines, without the harness's own."""
    with open(path, "rb") as f:
        lines = f.read().decode(errors="replace").splitlines()
    return [line for line in lines if not line.startswith("---- harness")]


def dump(obj):
    return json.dumps(obj)[:300]
