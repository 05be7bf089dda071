"""The chaos suite's workload: a ring of `ring` operators (swap on, idle 0, no prediction)
plus the `replicator`, in one real host process, driven by the harness:

  - ring rounds: nonce j written into <p>-ring-0/ring; the round is awaited (with a timeout:
    under a fault a round may stall, and the next one is written anyway) until
    <p>-ring-(N-1) has it; hop latency = when ring-(i+1) showed j minus when ring-i did;
  - replicator changes: data.gen of one of S labelled source ConfigMaps in <p>-src is raised
    by one (round robin), each replicated into <p>-a and <p>-b.

Host is the host process under a supervisor that, like a Deployment, restarts it when it
exits; an exit the harness did not cause (a crash) is recorded with its signal and log tail."""
import ctypes
import json
import os
import signal
import subprocess
import threading
import time

from kube import TESTRESOURCES, ApiError, ValueWatcher

REPLICATE = "replicator.wasm-operator.dev/replicate"
TO = "replicator.wasm-operator.dev/to"
SOURCE = "replicator.wasm-operator.dev/source"
HOSTILE_LABEL = "hostile.wasm-operator.dev/target"

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the host never outlives the harness


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------------------- definitions

def definitions(build, prefix, n, replicator_idle_ms=None, extra=()):
    docs = []
    for i in range(n):
        docs.append({"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
                     "metadata": {"name": f"ring-{i}"},
                     "spec": {"module": {"path": os.path.join(build, "wasm", "ring.wasm")},
                              "serviceAccount": {"namespace": "wasm-operators-ring", "name": f"ring-{i}"},
                              "config": {"inputNamespace": f"{prefix}-ring-{i}",
                                         "outputNamespace": f"{prefix}-ring-{(i + 1) % n}"}}})
    replicator = {"module": {"path": os.path.join(build, "wasm", "replicator.wasm")},
                  "serviceAccount": {"namespace": "wasm-operators", "name": "replicator"}}
    if replicator_idle_ms is not None:
        replicator["swap"] = {"enabled": True, "idleAfterMs": replicator_idle_ms}
    docs.append({"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
                 "metadata": {"name": "replicator"}, "spec": replicator})
    docs += list(extra)
    return "\n---\n".join(json.dumps(d) for d in docs) + "\n"


# ---------------------------------------------------------------------------- the host

class Host:
    """The host process, restarted by a supervisor thread whenever it exits."""

    def __init__(self, binary, kubeconfig, operators, workdir, swap_dir, artifacts, restart_delay_s=1.0):
        self.binary, self.kubeconfig, self.operators = binary, kubeconfig, operators
        self.workdir, self.swap_dir, self.artifacts = workdir, swap_dir, artifacts
        self.status_file = os.path.join(workdir, "status.json")
        self.log_path = os.path.join(workdir, "host.log")
        self.restart_delay_s = restart_delay_s
        self.proc = None
        self.starts = 0
        self.crashes = []  # exits the harness did not cause
        self.kills = []  # kill -9 by the harness: (time, tmp files seen)
        self.lock = threading.Lock()
        self.expected_exit = False
        self.stopping = False  # no more restarts
        self.finished = threading.Event()  # the supervisor may end (and with it, by PDEATHSIG, its children)
        self.kill_request = threading.Event()
        self.thread = None

    def argv(self):
        return [self.binary, "run", "--kubeconfig", self.kubeconfig, "--operators", self.operators,
                "--status-file", self.status_file, "--artifact-dir", self.artifacts,
                "--swap", "on", "--swap-dir", self.swap_dir, "--swap-idle-ms", "0", "--swap-predict", "off"]

    def _spawn(self):
        log = open(self.log_path, "ab")
        log.write(f"---- harness: host start {self.starts + 1}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        log.close()
        self.starts += 1

    def start(self):
        os.makedirs(self.swap_dir, exist_ok=True)
        self.thread = threading.Thread(target=self._supervise, daemon=True)
        self._spawn()
        self.thread.start()

    def _supervise(self):
        # Every (re)start happens on this thread: PR_SET_PDEATHSIG follows the thread that
        # forked, and this one lives as long as the scenario.
        while not self.finished.is_set():
            if self.stopping:
                time.sleep(0.05)
                continue
            if self.kill_request.is_set():
                with self.lock:
                    self.expected_exit = True
                    self.proc.send_signal(signal.SIGKILL)
                    self.proc.wait()
                    self.kill_request.clear()
                time.sleep(self.restart_delay_s)
                with self.lock:
                    self.expected_exit = False
                    if not self.stopping:
                        self._spawn()
                continue
            code = self.proc.poll()
            if code is not None:
                with self.lock:
                    if self.stopping:
                        continue
                    if not self.expected_exit:
                        self.crashes.append({"at": time.monotonic(), "returncode": code,
                                             "signal": signal.Signals(-code).name if code < 0 else None,
                                             "log_tail": self.log_tail(8)})
                time.sleep(self.restart_delay_s)
                with self.lock:
                    if not self.stopping:
                        self._spawn()
                continue
            time.sleep(0.05)

    def kill9(self, timeout=10):
        """SIGKILL now; the supervisor restarts it after restart_delay_s."""
        starts = self.starts
        self.kill_request.set()
        deadline = time.monotonic() + timeout
        while self.starts == starts and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self):
        with self.lock:
            self.stopping = True
        running = self.proc is not None and self.proc.poll() is None
        if running:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.crashes.append({"at": time.monotonic(), "returncode": None, "phase": "shutdown",
                                     "signal": "no exit within 20 s of SIGTERM", "log_tail": self.log_tail(8)})
        self.finished.set()
        if self.thread:
            self.thread.join(5)
        code = self.proc.returncode if self.proc else None
        # A clean shutdown exits 0; anything else at stop is a crash on the way out.
        if running and code not in (0, None, -signal.SIGKILL):
            self.crashes.append({"at": time.monotonic(), "returncode": code, "phase": "shutdown",
                                 "signal": signal.Signals(-code).name if code < 0 else None,
                                 "log_tail": self.log_tail(8)})

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def status(self):
        try:
            with open(self.status_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def operator(self, name):
        s = self.status()
        for o in (s or {}).get("operators", []):
            if o["name"] == name:
                return o
        return None

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-20000:].decode(errors="replace").splitlines()[-lines:]
        except OSError:
            return []

    def log_grep(self, needle, limit=3):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [line[:300] for line in text.splitlines() if needle in line][:limit]

    def own_swap_dirs(self):
        """<swap-dir>/host-<pid>/<operator>/ of the running host."""
        if not self.proc:
            return None
        return os.path.join(self.swap_dir, f"host-{self.proc.pid}")


# ---------------------------------------------------------------------------- the workload

class Workload:
    def __init__(self, api, prefix, n=4, sources=4, rounds=30, changes=300, window_s=12.0, round_timeout_s=10.0):
        self.api, self.p, self.n = api, prefix, n
        self.sources = [f"src-{k}" for k in range(sources)]
        self.targets = [f"{prefix}-a", f"{prefix}-b"]
        self.rounds, self.changes, self.window_s = rounds, changes, window_s
        self.round_timeout_s = round_timeout_s
        self.ring_ns = [f"{prefix}-ring-{i}" for i in range(n)]
        self.src_ns = f"{prefix}-src"
        self.gen = {s: 0 for s in self.sources}  # last acknowledged data.gen per source
        self.nonce = 0  # last acknowledged nonce in ring-0
        self.running = threading.Event()
        self.running.set()
        self.lock = threading.Lock()
        self.round_times = {}  # nonce -> monotonic time written
        self.rounds_timed_out = []
        self.write_errors = []
        self.done_at = None
        self.ring = ValueWatcher(api, f"{TESTRESOURCES}/testresources",
                                 lambda o: o.get("spec", {}).get("nonce"))
        self.copies = ValueWatcher(api, "/api/v1/configmaps",
                                   lambda o: int(o.get("data", {}).get("gen", "-1")), SOURCE)
        self.threads = []

    # ----------------------------------------------------------------- set-up

    def create_objects(self):
        for ns in self.ring_ns + [self.src_ns] + self.targets:
            self.api.create_namespace(ns)
        for s in self.sources:
            self.api.ensure(f"/api/v1/namespaces/{self.src_ns}/configmaps", {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": s, "namespace": self.src_ns, "labels": {REPLICATE: "true"},
                             "annotations": {TO: ",".join(self.targets)}},
                "data": {"gen": "0", "payload": "x"}})
        self.ring.start()
        self.copies.start()

    def wait_ready(self, timeout):
        """Round 1 through the ring and every source's copies: the host is up and synced."""
        started = time.monotonic()
        self._write_nonce(1)
        ok = self.ring.wait((self.ring_ns[-1], "ring"), lambda v: v >= 1, timeout)
        for s in self.sources:
            for t in self.targets:
                left = max(1, timeout - (time.monotonic() - started))
                ok = self.copies.wait((t, s), lambda v: v >= 0, left) and ok
        return ok, time.monotonic() - started

    # ----------------------------------------------------------------- writes

    def _write_nonce(self, j):
        path = f"{TESTRESOURCES}/namespaces/{self.ring_ns[0]}/testresources"
        try:
            if j == 1:
                self.api.ensure(path, {"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
                                       "metadata": {"name": "ring", "namespace": self.ring_ns[0]},
                                       "spec": {"nonce": 1}})
            else:
                self.api.merge_patch(f"{path}/ring", {"spec": {"nonce": j}})
        except ApiError as e:
            self.write_errors.append(str(e))
            return False
        with self.lock:
            self.nonce = j
            self.round_times[j] = time.monotonic()
        return True

    def replicator_change(self, k):
        s = self.sources[k % len(self.sources)]
        with self.lock:
            g = self.gen[s] + 1
        try:
            self.api.merge_patch(f"/api/v1/namespaces/{self.src_ns}/configmaps/{s}",
                                 {"data": {"gen": str(g), "payload": f"change {k} of {s}"}})
        except ApiError as e:
            self.write_errors.append(str(e))
            return False
        with self.lock:
            self.gen[s] = g
        return True

    # ----------------------------------------------------------------- drivers

    def pause(self):
        self.running.clear()

    def resume(self):
        self.running.set()

    def _ring_driver(self):
        pace = self.window_s / max(1, self.rounds)
        for j in range(2, self.rounds + 2):
            self.running.wait()
            t = time.monotonic()
            if self._write_nonce(j) and not self.ring.wait((self.ring_ns[-1], "ring"), lambda v: v >= j,
                                                           self.round_timeout_s):
                self.rounds_timed_out.append(j)
            time.sleep(max(0.0, pace - (time.monotonic() - t)))

    def _replicator_driver(self):
        pace = self.window_s / max(1, self.changes)
        start = time.monotonic()
        for k in range(self.changes):
            self.running.wait()
            self.replicator_change(k)
            time.sleep(max(0.0, start + (k + 1) * pace - time.monotonic()))

    def start(self):
        self.threads = [threading.Thread(target=self._ring_driver, daemon=True),
                        threading.Thread(target=self._replicator_driver, daemon=True)]
        for t in self.threads:
            t.start()

    def join(self):
        for t in self.threads:
            t.join()
        self.done_at = time.monotonic()

    def stop(self):
        self.running.set()
        self.ring.stop()
        self.copies.stop()

    # ----------------------------------------------------------------- measures

    def hop_latencies_ms(self, nonces=None):
        """Per completed round, (ring-(i+1) showed j) - (ring-i showed j), in ms."""
        hops = []
        for j in sorted(nonces if nonces is not None else self.round_times):
            times = [self.ring.first_time((ns, "ring"), lambda v, j=j: v >= j) for ns in self.ring_ns]
            if None in times or j in self.rounds_timed_out:
                continue
            hops += [(b - a) * 1000 for a, b in zip(times, times[1:])]
        return hops

    def expected(self):
        with self.lock:
            return self.nonce, dict(self.gen)
