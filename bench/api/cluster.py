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
import threading
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


REGISTRY_FIELD = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')
DURATION = re.compile(r"^([\d.]+)(ns|µs|us|ms|s)$")
UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def _registry_time(stamp):
    whole, fraction = stamp.rstrip("Z").split(".")
    return datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp() + float("0." + fraction)


def registry_requests(registry, since):
    """[(start, end wall-clock seconds, method, what, status)] of the registry's answers after
    since, from docker-registry's log (nanosecond times): "response completed" lines carry the
    request's duration; a request refused for want of credentials is logged once, as "error
    authorizing context", when the 401 goes out (start = end then)."""
    out = []
    try:
        with open(registry.log_file, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return out
    for line in lines:
        fields = {k: v.strip('"') for k, v in REGISTRY_FIELD.findall(line)}
        msg = fields.get("msg", "")
        if "time" not in fields or not msg.startswith(("response completed", "error authorizing context")):
            continue
        end = _registry_time(fields["time"])
        d = DURATION.match(fields.get("http.response.duration", ""))
        start = end - (float(d.group(1)) * UNITS[d.group(2)] if d else 0.0)
        status = int(fields.get("http.response.status", "401" if msg.startswith("error") else "0"))
        uri = fields.get("http.request.uri", "")
        what = "manifest" if "/manifests/" in uri else "blob" if "/blobs/" in uri else uri
        if start >= since:
            out.append((start, end, fields.get("http.request.method"), what, status))
    return out


def delete_and_wait_unloaded(api, host, name, timeout=30):
    api.request("DELETE", f"{WASMOPERATORS}/{name}", ok=(200, 202, 404))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if logged_at(host, name, "WasmOperator deleted: unloaded") is not None:
            return True
        time.sleep(0.05)
    return False


class MachineLoad:
    """Samples the whole machine every interval_s: the share of all cores busy (/proc/stat) and
    the 1-minute load average, per phase. Other work on the machine (a build) shows here."""

    def __init__(self, interval_s=0.5):
        self.interval_s = interval_s
        self.phase = "setup"
        self.samples = []  # (phase, busy jiffies, total jiffies, loadavg1)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _read():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        with open("/proc/loadavg") as f:
            load = float(f.read().split()[0])
        return sum(values) - idle, sum(values), load

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def _run(self):
        while not self.stopping.is_set():
            self.samples.append((self.phase, *self._read()))
            self.stopping.wait(self.interval_s)

    def summary(self):
        """{phase: {"busy_share": of all cores, "loadavg1_median", "loadavg1_max", "cores"}}."""
        out = {}
        for phase in dict.fromkeys(p for p, *_ in self.samples):
            rows = [s for s in self.samples if s[0] == phase]
            if len(rows) < 2:
                continue
            busy, total = rows[-1][1] - rows[0][1], rows[-1][2] - rows[0][2]
            loads = sorted(s[3] for s in rows)
            out[phase] = {"busy_share": busy / total if total else None, "loadavg1_median": loads[len(loads) // 2],
                          "loadavg1_max": loads[-1], "cores": os.cpu_count(), "seconds": len(rows) * self.interval_s}
        return out
