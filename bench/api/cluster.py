"""What the WasmOperator API benchmark runs against: one `wasm-operator run` host at its
defaults running the cluster's WasmOperator objects, a docker-registry with basic auth (its
pull Secret read as the ring's ServiceAccounts, as test/api/module_sources_test.py sets up),
the harness's watches, and readers of the host's log and artifact folder."""
import base64
import datetime
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "chaos"))
sys.path.insert(0, os.path.join(ROOT, "bench", "ring"))
from kube import TESTRESOURCES, ApiError, ValueWatcher  # noqa: E402
from setups import leb128  # noqa: E402
from workload import Host  # noqa: E402

WASMOPERATORS = "/apis/wasm-operator.dev/v1alpha1/wasmoperators"
WASMOPERATOR_CRD = os.path.join(ROOT, "deploy", "crds", "wasmoperators.yaml")
RING_NS = "wasm-operators-ring"  # the ring's ServiceAccounts (deploy/rbac/example-operators.yaml)
PULL_SECRET = "bench-api-pull"
USER, PASSWORD = "robot", "pull-only-secret"
LOG_LINE = re.compile(r"^(\S+Z) level=\S+ operator=(\S+) msg=(\"(?:[^\"\\]|\\.)*\"|\S+)")


class DefaultsHost(Host):
    """The chaos suite's supervised host, started with the host's defaults: only where its files
    go (artifacts, snapshots, status), the registry's CA, and loopback port 0 for /metrics and the
    probes (served, as by default, on ports that cannot clash) are given."""

    ca_file = None

    def argv(self):
        return [self.binary, "run", "--kubeconfig", self.kubeconfig, "--status-file", self.status_file,
                "--artifact-dir", self.artifacts, "--swap-dir", self.swap_dir, "--module-ca-file", self.ca_file,
                "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0"]


def host_defaults(binary):
    """{flag: default} as `wasm-operator run --help` states them: the settings the host ran with."""
    text = subprocess.run([binary, "run", "--help"], capture_output=True, text=True).stdout
    defaults = {}
    for line in text.splitlines():
        m = re.match(r"\s+--(\S+).*default:? ([^()]*)\)\s*$", line)
        if m:
            defaults[m.group(1)] = m.group(2).strip('"')
    return defaults


def wasm_operator(name, module, account, config):
    return {"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator", "metadata": {"name": name},
            "spec": {"module": module, "serviceAccount": {"namespace": RING_NS, "name": account}, "config": config}}


def distinct_module(src, dest, section="wop-bench-api"):
    """A copy of src with a custom section (id 0, LEB128 size, name, payload) named section and
    holding 16 random bytes: the same code, bytes no cache has seen. Returns its sha256 (hex)."""
    name = section.encode()
    payload = leb128(len(name)) + name + secrets.token_bytes(16)
    with open(src, "rb") as f:
        module = f.read() + b"\x00" + leb128(len(payload)) + payload
    with open(dest, "wb") as f:
        f.write(module)
    return hashlib.sha256(module).hexdigest()


def pull_objects(registry):
    """The pull Secret and a Role letting the ring's ServiceAccounts get it (and nothing more)."""
    dockerconfig = json.dumps({"auths": {registry.address: {
        "auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}})
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": PULL_SECRET, "namespace": RING_NS},
         "type": "kubernetes.io/dockerconfigjson",
         "data": {".dockerconfigjson": base64.b64encode(dockerconfig.encode()).decode()}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": PULL_SECRET, "namespace": RING_NS},
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": [PULL_SECRET]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": PULL_SECRET, "namespace": RING_NS},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": PULL_SECRET},
         "subjects": [{"kind": "Group", "name": f"system:serviceaccounts:{RING_NS}",
                       "apiGroup": "rbac.authorization.k8s.io"}]},
    ]


def image_module(registry, repo, digest):
    return {"image": registry.reference(repo, digest), "imagePullSecrets": [{"name": PULL_SECRET}]}


class Watches:
    """Two watches opened before anything is measured: every TestResource's nonce (all
    namespaces) and every WasmOperator's (observedGeneration, phase)."""

    def __init__(self, api):
        self.nonces = ValueWatcher(api, f"{TESTRESOURCES}/testresources", lambda o: o.get("spec", {}).get("nonce"))
        self.operators = ValueWatcher(api, WASMOPERATORS, lambda o: (
            (o.get("status") or {}).get("observedGeneration"), (o.get("status") or {}).get("phase")))

    def start(self):
        self.nonces.start()
        self.operators.start()

    def stop(self):
        self.nonces.stop()
        self.operators.stop()

    def running_at(self, name, generation):
        """When the watch first saw the operator's status say Running for generation."""
        return self.operators.first_time(("", name), lambda v: v == (generation, "Running"))


def set_nonce(api, ns, name, nonce, create=False):
    path = f"{TESTRESOURCES}/namespaces/{ns}/testresources"
    if create:
        api.ensure(path, {"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
                          "metadata": {"name": name, "namespace": ns}, "spec": {"nonce": nonce}})
    else:
        api.merge_patch(f"{path}/{name}", {"spec": {"nonce": nonce}})


def nonce_of(api, ns, name):
    try:
        return api.get(f"{TESTRESOURCES}/namespaces/{ns}/testresources/{name}")["spec"]["nonce"]
    except ApiError as e:
        if e.status == 404:
            return 0
        raise


def log_records(host):
    """The host's log as (wall-clock seconds, operator, message), harness lines left out."""
    records = []
    try:
        with open(host.log_path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return records
    for line in lines:
        m = LOG_LINE.match(line)
        if not m:
            continue
        at = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        msg = m.group(3)
        if msg.startswith('"'):
            msg = json.loads(msg)
        records.append((at.timestamp(), m.group(2), msg))
    return records


def logged_at(host, operator, prefix):
    """Wall-clock seconds of the operator's first log line starting with prefix, or None."""
    for at, who, msg in log_records(host):
        if who == operator and msg.startswith(prefix):
            return at
    return None


def artifacts(directory):
    """{compiled artifact file: mtime} in the host's artifact folder."""
    try:
        return {e.name: e.stat().st_mtime for e in os.scandir(directory) if e.name.endswith(".cwasm")}
    except FileNotFoundError:
        return {}


def stored_module_mtime(directory, sha256):
    """When the host's module store wrote the module with this digest (its atomic rename), or None."""
    try:
        return os.stat(os.path.join(directory, "modules", "sha256", sha256 + ".wasm")).st_mtime
    except FileNotFoundError:
        return None


REGISTRY_LINE = re.compile(r'^time="(\S+)" level=\S+ msg="response completed[^"]*" .*?http\.request\.method=(\S+) '
                           r'.*?http\.request\.uri="?([^" ]+)"? .*?http\.response\.duration=(\S+) '
                           r'http\.response\.status=(\d+)')
DURATION = re.compile(r"^([\d.]+)(ns|µs|us|ms|s)$")
UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def registry_requests(registry, repository, since):
    """[(start, end wall-clock seconds, method, what, status)] of the registry's answers about
    repository after since, from docker-registry's log (nanosecond times, each with its duration)."""
    out = []
    try:
        with open(registry.log_file, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return out
    for line in lines:
        m = REGISTRY_LINE.match(line)
        if not m or f"/v2/{repository}/" not in m.group(3):
            continue
        stamp, fraction = m.group(1).rstrip("Z").split(".")
        end = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=datetime.timezone.utc).timestamp() + float("0." + fraction)
        d = DURATION.match(m.group(4))
        start = end - (float(d.group(1)) * UNITS[d.group(2)] if d else 0.0)
        if start >= since:
            what = "manifest" if "/manifests/" in m.group(3) else "blob" if "/blobs/" in m.group(3) else "other"
            out.append((start, end, m.group(2), what, int(m.group(5))))
    return out


def delete_and_wait_unloaded(api, host, name, timeout=30):
    api.request("DELETE", f"{WASMOPERATORS}/{name}", ok=(200, 202, 404))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if logged_at(host, name, "WasmOperator deleted: unloaded") is not None:
            return True
        time.sleep(0.05)
    return False
