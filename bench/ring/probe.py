"""What the ring harness measures with: a small HTTPS client of the API server (admin
client certificate from the kubeconfig), one watch of TestResources in all namespaces that
records when each ring namespace reached each nonce, /proc readers for PSS and CPU, a memory
cgroup per run (cgroup v1), and the control plane's own processes."""
import http.client
import json
import os
import re
import ssl
import threading
import time
import urllib.parse

API = "/apis/bench.wasm-operator.dev/v1"
RING_NS = re.compile(r"^ring-(\d+)$")
# A namespace no operator watches: an object written there shows the watch path is flowing.
PROBE_NS = "wop-ring-probe"


class Api:
    """Blocking requests to the API server of a kubeconfig written by testenv/controlplane.py."""

    def __init__(self, kubeconfig):
        with open(kubeconfig) as f:
            config = json.load(f)  # controlplane.py writes JSON kubeconfigs
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        url = urllib.parse.urlsplit(cluster["server"])
        self.host, self.port = url.hostname, url.port
        self.context = ssl.create_default_context(cafile=cluster["certificate-authority"])
        self.context.load_cert_chain(user["client-certificate"], user["client-key"])
        self.conn = None

    def connect(self, timeout=30):
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", ok=(200, 201)):
        if self.conn is None:
            self.conn = self.connect()
        data = json.dumps(body) if body is not None else None
        try:
            self.conn.request(method, path, body=data, headers={"Content-Type": content_type})
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn = None  # a dropped keep-alive connection: one fresh retry
            self.conn = self.connect()
            self.conn.request(method, path, body=data, headers={"Content-Type": content_type})
            response = self.conn.getresponse()
            payload = response.read()
        if response.status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def create_namespace(self, name):
        self.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def set_nonce(self, ns, name, nonce, create=False):
        if create:
            body = {"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
                    "metadata": {"namespace": ns, "name": name}, "spec": {"nonce": nonce}}
            self.request("POST", f"{API}/namespaces/{ns}/testresources", body)
        else:
            self.request("PATCH", f"{API}/namespaces/{ns}/testresources/{name}", {"spec": {"nonce": nonce}},
                         content_type="application/merge-patch+json")

    def nonces(self):
        """{namespace: nonce} of every TestResource named "ring"."""
        items = self.request("GET", f"{API}/testresources")["items"]
        return {o["metadata"]["namespace"]: o["spec"]["nonce"] for o in items if o["metadata"]["name"] == "ring"}


class RingWatcher:
    """One watch of TestResources in all namespaces (reconnecting from the last
    resourceVersion if the server ends it); records the monotonic time at which ring-i
    first showed each nonce of the object named "ring"."""

    def __init__(self, api, n):
        self.api, self.n = api, n
        self.best = [0] * n
        self.reached = {}  # (i, nonce) -> time.monotonic() when the event arrived
        self.cond = threading.Condition()
        self.error = None
        self.probe_seen = False
        self.stopped = False
        self.resource_version = ""
        self.watching = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self, timeout=30):
        """Starts the watch; returns once the API server has accepted it."""
        self.thread.start()
        if not self.watching.wait(timeout):
            raise RuntimeError(self.error or "the harness's watch did not start")

    def stop(self):
        self.stopped = True

    def wait_flowing(self, api, timeout=30):
        """Writes an object in PROBE_NS and waits until this watch delivers it. Right after a
        CRD is established, the API server can hold back watch events for about 2 s; this
        keeps that out of the first cycle of the ring."""
        api.create_namespace(PROBE_NS)
        api.set_nonce(PROBE_NS, "probe", 1, create=True)
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.probe_seen:
                if self.error or time.monotonic() > deadline:
                    raise RuntimeError(self.error or "the harness's watch delivered no event within 30 s")
                self.cond.wait(0.1)

    def _run(self):
        while not self.stopped:
            try:
                self._watch_once()
            except Exception as e:  # noqa: BLE001 - reported to the waiting thread
                if self.stopped:
                    return
                with self.cond:
                    self.error = f"watch failed: {e}"
                    self.cond.notify_all()
                return

    def _watch_once(self):
        conn = self.api.connect(timeout=None)
        path = f"{API}/testresources?watch=1&timeoutSeconds=3600"
        if self.resource_version:
            path += f"&resourceVersion={self.resource_version}"
        conn.request("GET", path)
        response = conn.getresponse()
        if response.status == 429:  # a CRD's watch cache is still initialising: retry
            conn.close()
            time.sleep(0.5)
            return
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        self.watching.set()
        while not self.stopped:
            line = response.readline()
            if not line:
                return  # the server ended the watch: reconnect
            now = time.monotonic()
            event = json.loads(line)
            obj = event["object"]
            if event["type"] == "ERROR":
                self.resource_version = ""  # 410 Gone: start from now (cycles are awaited)
                return
            self.resource_version = obj["metadata"].get("resourceVersion", "")
            if obj["metadata"].get("namespace") == PROBE_NS:
                with self.cond:
                    self.probe_seen = True
                    self.cond.notify_all()
            m = RING_NS.match(obj["metadata"].get("namespace", ""))
            if not m or obj["metadata"]["name"] != "ring" or int(m.group(1)) >= self.n:
                continue
            self._record(int(m.group(1)), int(obj.get("spec", {}).get("nonce", 0)), now)

    def _record(self, i, nonce, now):
        with self.cond:
            if nonce > self.best[i]:
                for k in range(self.best[i] + 1, nonce + 1):
                    self.reached.setdefault((i, k), now)
                self.best[i] = nonce
                self.cond.notify_all()

    def wait_last(self, nonce, timeout):
        """True once ring-(n-1) has reached nonce; False on timeout; raises on a watch error."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.best[self.n - 1] < nonce:
                if self.error:
                    raise RuntimeError(self.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def last_reached(self, nonce):
        """The last namespace of the unbroken run ring-0, ring-1, ... that reached nonce."""
        with self.cond:
            last = -1
            while last + 1 < self.n and self.best[last + 1] >= nonce:
                last += 1
        return f"ring-{last}" if last >= 0 else "none (not even ring-0)"

    def times(self, nonce):
        with self.cond:
            return [self.reached[(i, nonce)] for i in range(self.n)]


def process_tree(roots):
    """The pids of roots and all their descendants that are still alive."""
    pids, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        if not os.path.exists(f"/proc/{pid}"):
            continue
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def pss_bytes(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass  # exited between listing and reading
    return total


def pss_anon_bytes(pids):
    """Pss_Anon summed over pids: the PSS that is the processes' own (heap, stacks, anonymous
    mappings), without the mapped files a page-cache eviction can take back."""
    return pss_breakdown(pids)["anon"]


def pss_breakdown(pids):
    """Pss_Anon / Pss_File / Pss_Shmem summed over pids: where the PSS is (heap and stacks,
    or mapped files: binaries, libraries, compiled wasm artifacts)."""
    keys = {"Pss_Anon:": "anon", "Pss_File:": "file", "Pss_Shmem:": "shmem"}
    total = dict.fromkeys(keys.values(), 0)
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    parts = line.split()
                    if parts and parts[0] in keys:
                        total[keys[parts[0]]] += int(parts[1]) * 1024
        except OSError:
            pass
    return total


# Wasmtime reserves address space for each linear memory (4 GiB plus guard pages); nothing
# else in the host maps an anonymous region this large.
LINEAR_MEMORY_RESERVATION = 1 << 30
THREAD_STACK = 8 << 20


def smaps_categories(pid, artifacts_dir, swap_dir=None):
    """One process's PSS by what its mappings hold, from /proc/PID/smaps: compiled wasm code
    (mapped from the artifact cache), Wasm linear memories (the accessible start of Wasmtime's
    big anonymous reservations, and snapshot layers mapped into them on restore), thread
    stacks, the host binary and libraries, and the heap with everything else anonymous."""
    artifacts_dir = os.path.realpath(artifacts_dir) + "/" if artifacts_dir else None
    swap_dir = os.path.realpath(swap_dir) + "/" if swap_dir else None
    maps = []  # [start, end, path, pss]
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if not fields[0].endswith(":") and "-" in fields[0]:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                maps.append([start, end, fields[5] if len(fields) > 5 else "", 0])
            elif fields[0] == "Pss:" and maps:
                maps[-1][3] = int(fields[1]) * 1024
    totals = dict.fromkeys(["compiled_code", "linear_memories", "stacks", "binaries_and_libraries", "heap_and_other_anon"], 0)
    for i, (start, end, path, pss) in enumerate(maps):
        # A linear memory's accessible pages are their own mapping (read-write); the rest of its
        # reservation (inaccessible) follows right after them.
        rest = maps[i + 1] if i + 1 < len(maps) else None
        in_reservation = rest is not None and rest[0] == end and rest[2] == "" and rest[1] - rest[0] >= LINEAR_MEMORY_RESERVATION
        if artifacts_dir and path.startswith(artifacts_dir):
            category = "compiled_code"
        elif (swap_dir and path.startswith(swap_dir)) or (path == "" and (in_reservation or end - start >= LINEAR_MEMORY_RESERVATION)):
            category = "linear_memories"
        elif path.startswith("/"):
            category = "binaries_and_libraries"
        elif path == "[stack]" or (path == "" and end - start == THREAD_STACK):
            category = "stacks"
        else:
            category = "heap_and_other_anon"  # [heap], malloc arenas, anonymous code, [vdso]
        totals[category] += pss
    return totals


def cpu_seconds(pids):
    """utime+stime of the processes and of the children they have waited for."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        except OSError:
            pass
    return total / ticks


class MemorySampler:
    """Samples the total PSS of a set of process trees every interval seconds (and at once
    when the phase changes), tagging each sample with the phase the harness is in."""

    def __init__(self, roots, interval=0.5, measure=None):
        # measure(): one sample; by default the total PSS of the roots' process trees.
        self.roots, self.interval = roots, interval
        self.measure = measure or (lambda: pss_bytes(process_tree(self.roots)))
        self.phase = "start"
        self.samples = []  # (phase, bytes)
        self.stopped = False
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def set_phase(self, phase):
        self.phase = phase
        self.wake.set()

    def stop(self):
        self.stopped = True
        self.wake.set()
        self.thread.join()

    def _run(self):
        while not self.stopped:
            phase = self.phase
            self.samples.append((phase, self.measure()))
            self.wake.wait(self.interval)
            self.wake.clear()

    def of(self, phase=None):
        return [b for p, b in self.samples if phase is None or p == phase]


CGROUP_V1_MEMORY = "/sys/fs/cgroup/memory"


class MemoryCgroup:
    """A cgroup v1 memory cgroup made for one setup run, named wop-bench-ring-<harness pid>-
    <setup>-<n>, inside the harness's own memory cgroup (at the root of
    /sys/fs/cgroup/memory when the harness runs in the root one), so limits that apply to the
    harness apply to the setup too. usage() is memory.usage_in_bytes: anonymous memory plus the
    page cache charged to it (a page is charged to the cgroup of whoever first read it).
    remove() moves nothing: it waits for the tasks to be gone and removes the folder; its
    remaining page cache goes to the parent."""

    def __init__(self, setup, n):
        self.path = os.path.join(own_memory_cgroup(), f"wop-bench-ring-{os.getpid()}-{setup}-{n}")
        os.mkdir(self.path)

    def usage(self):
        with open(os.path.join(self.path, "memory.usage_in_bytes")) as f:
            return int(f.read())

    def remove(self, timeout=10):
        """True once the folder is gone; False if tasks were still in it after timeout s."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.1)  # its last tasks are still exiting


def memory_cgroups_available():
    return os.access(CGROUP_V1_MEMORY, os.W_OK) and os.path.exists(os.path.join(CGROUP_V1_MEMORY, "memory.usage_in_bytes"))


def own_memory_cgroup():
    """The folder of this process's cgroup v1 memory cgroup."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return CGROUP_V1_MEMORY + path.rstrip("/")
    return CGROUP_V1_MEMORY


def control_plane_pids(kubeconfig):
    """{"kube-apiserver": pid, "etcd": pid} of the control plane whose kubeconfig this is
    (testenv/controlplane.py keeps its pids in state.json beside the kubeconfig)."""
    with open(os.path.join(os.path.dirname(kubeconfig), "state.json")) as f:
        pids = json.load(f)["pids"]
    return {name: pids[name] for name in ("kube-apiserver", "etcd") if pids.get(name)}


def process_shape(pid):
    """Threads, virtual memory reserved (VmSize) and memory maps of one process: what a host
    holds beside its PSS, and what runs out first at large N (vm.max_map_count, 47-bit space)."""
    shape = {"threads": None, "vm_size_bytes": None, "maps": None}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    shape["threads"] = int(line.split()[1])
                elif line.startswith("VmSize:"):
                    shape["vm_size_bytes"] = int(line.split()[1]) * 1024
        with open(f"/proc/{pid}/maps") as f:
            shape["maps"] = sum(1 for _ in f)
    except OSError:
        pass  # exited
    return shape


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReadyProbe:
    """Polls http://ADDR/readyz from start() until it answers 200, and keeps the monotonic
    time of that first 200: a host's /readyz passes once every definition is loaded and every
    running operator's caches are synced."""

    def __init__(self, address, interval=0.02):
        self.address, self.interval = address, interval
        self.ready_at = None
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped = True
        self.thread.join()

    def _run(self):
        host, port = self.address.rsplit(":", 1)
        while not self.stopped and self.ready_at is None:
            try:
                conn = http.client.HTTPConnection(host, int(port), timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    self.ready_at = time.monotonic()
                conn.close()
            except OSError:
                pass  # not listening yet
            time.sleep(self.interval)
