#!/usr/bin/env python3
"""The fleet benchmark (issue 16, item 3): a workload where swapping should pay. N operators in
one `wasm-operator run`, each a fleet guest (bench/guests/fleet) holding a real in-memory index
of 1-8 MiB (sizes drawn from a seeded distribution), each replaying one of the recorded traces
(bench/traces, a copy of ../shared/data/traces) from a random phase at a speed-up, so that a few are busy at any time
and most are idle. Three configurations of the host, each otherwise at its defaults:

  swap-off      --swap off: every operator resident
  swap-idle     --swap on --swap-predict off: swap out after the default idle period
  swap-predict  prediction without the early swap-out (--swap-settle-ms 0): the idle period
                after every wake (the host's defaults before the early swap-out became one)
  swap-settle   the host's defaults (swap on, prediction on, early swap-out after 250 ms: swap
                out 250 ms after a reconcile when the next predicted wake is confidently far,
                prefetched back before it)
  swap-predict-budget, swap-settle-budget (opt-in): the same in a cgroup limited to --budget-mib
  swap-budget (opt-in): the defaults with the host's own memory budget, --swap-memory-budget-mib,
                set to --budget-mib (idle operators whose next wake is furthest away out first)

Writes bench/results/fleet.json and docs/benchmarks/fleet.md (with a memory-over-time plot).

  bench/fleet/run.py --build BUILD_DIR [--n 48] [--repeats 3] [--speedup 4] [--seed S]
  bench/fleet/run.py --build BUILD_DIR --quick --kubeconfig KC --out DIR   (the smoke test)

Each (config, repeat) runs on a fresh control plane of its own (unless --kubeconfig names one
to share, as the smoke test does), in a shuffled order, and in a memory cgroup of its own
(bench/ring/probe.py). An event of the trace is a change of the "step" label of the
operator's ConfigMap; the guest reconciles it (reads and updates its index) and writes the step
into an annotation. The wake-up latency of an event is from just before the driver's PATCH to
the moment the driver's watch sees the annotation (end to end, the API server's write and watch
paths twice included). Memory (total PSS, anonymous PSS, cgroup usage) is sampled every second
from launch; the figures are medians over the measured window (after --warmup-s of replay).
CPU is the host's utime+stime over the measured window. Resident fraction is the operators'
resident time over the window (the host's status file, residentSeconds) divided by N x window.
"""
import argparse
import http.client
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "bench", "ring"))
from report import control_plane, git_commit, machine_summary, percentile, read_deps  # noqa: E402
import own_part  # noqa: E402
import probe  # noqa: E402
import setups  # noqa: E402


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The ring harness's run.py (host defaults from --help), and bench/swap/trace.py
# (its name would shadow the standard library's trace module on sys.path).
ring_run = _load("ring_run", os.path.join(ROOT, "bench", "ring", "run.py"))
traces = _load("fleet_traces", os.path.join(ROOT, "bench", "swap", "trace.py"))
report_fleet = _load("report_fleet", os.path.join(HERE, "report_fleet.py"))



def default_traces_dir():
    """The repository's copy of ../shared/data/traces (bench/traces/README.md)."""
    return os.path.join(ROOT, "bench", "traces")


CONFIGS = {
    "swap-off": ["--swap", "off"],
    "swap-idle": ["--swap", "on", "--swap-predict", "off"],
    # Prediction with the idle timer alone: the host's defaults until the early swap-out became
    # one (this benchmark showed the idle timer to be the wrong policy). Result files from before
    # record swap-predict as "(host defaults)" and swap-settle as "--swap-settle-ms 250".
    "swap-predict": ["--swap-settle-ms", "0"],
    # The host's defaults: the early swap-out of a confidently predicted operator
    # (WakePredictor's settleAfter, 250 ms).
    "swap-settle": [],
}
# The same hosts in a run cgroup whose memory.limit_in_bytes is the budget (--budget-mib): the
# kernel must then reclaim the snapshots' page cache (charged to the cgroup) and whatever else
# it can. Opt-in (--configs), as swap off does not fit such a budget.
BUDGETED = {"swap-predict-budget": "swap-predict", "swap-settle-budget": "swap-settle"}
for _name, _base in BUDGETED.items():
    CONFIGS[_name] = CONFIGS[_base]
# The host's own budget (--swap-memory-budget-mib --budget-mib, runtime/memory_budget.h): with
# the defaults otherwise, the idle operators whose next wake is furthest away are swapped out
# while the resident linear memories add up to more than the budget. No cgroup limit. Opt-in
# (--configs). (Before commit 25896e1 it was least recently active first, and named swap-lru.)
HOST_BUDGETED = {"swap-budget": "swap-predict"}
for _name, _base in HOST_BUDGETED.items():
    CONFIGS[_name] = CONFIGS[_base] + ["--swap-memory-budget-mib", "BUDGET_MIB"]
DEFAULT_CONFIGS = ("swap-off", "swap-idle", "swap-predict", "swap-settle")
# Which trace an operator replays: most operators are rarely woken, a few are busy.
TRACE_WEIGHTS = {"traces_60": 0.8, "traces_10": 0.1, "traces_5": 0.1}
STEP_ANNOTATION = "fleet.wasm-operator.dev/step"


class RunFailed(Exception):
    pass


# ------------------------------------------------------------------------------- the workload


def draw_fleet(n, seed, size_min_mib, size_max_mib, speedup, horizon_s, traces_dir):
    """The operators of a run, the same for every config of one benchmark: index size (uniform
    in [min, max] MiB, whole KiB), trace (TRACE_WEIGHTS), phase (uniform over the trace) and the
    event times (seconds from the start of the replay, gaps divided by speedup, up to horizon)."""
    rng = random.Random(seed)
    loaded = {name: traces.read_trace(os.path.join(traces_dir, name + ".csv")) for name in TRACE_WEIGHTS}
    names, weights = list(TRACE_WEIGHTS), list(TRACE_WEIGHTS.values())
    fleet = []
    for i in range(n):
        kib = rng.randint(size_min_mib * 1024, size_max_mib * 1024)
        trace = rng.choices(names, weights)[0]
        offsets = loaded[trace]
        phase = rng.uniform(0, offsets[-1])
        # The trace from its phase on, wrapping around to its start, so every operator has events.
        length = offsets[-1] + (offsets[-1] / (len(offsets) - 1))
        shifted = sorted(((at - phase) % length) / speedup for at in offsets)
        fleet.append({"index": i, "index_kib": kib, "trace": trace, "phase_s": round(phase, 3),
                      "events_s": [round(at, 4) for at in shifted if at < horizon_s]})
    return fleet


class Cluster:
    """The driver's side of one run: namespaces and ConfigMaps, the label writes, and one watch
    of the ConfigMaps named "fleet" that records when each operator's annotation reached each
    step."""

    def __init__(self, kubeconfig, prefix, n):
        self.api, self.writer = probe.Api(kubeconfig), probe.Api(kubeconfig)
        self.prefix, self.n = prefix, n
        self.best = [-1] * n
        self.reached = {}  # (i, step) -> monotonic time the watch saw it
        self.cond = threading.Condition()
        self.error = None
        self.stopped = False
        self.watching = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def ns(self, i):
        return f"{self.prefix}{i}"

    def create(self):
        for i in range(self.n):
            self.api.create_namespace(self.ns(i))
            self.api.request("POST", f"/api/v1/namespaces/{self.ns(i)}/configmaps",
                             {"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "fleet", "labels": {"step": "0"}}})
        self.thread.start()
        if not self.watching.wait(30):
            raise RunFailed(self.error or "the driver's watch did not start")

    def set_step(self, i, step):
        self.writer.request("PATCH", f"/api/v1/namespaces/{self.ns(i)}/configmaps/fleet",
                            {"metadata": {"labels": {"step": str(step)}}},
                            content_type="application/merge-patch+json")

    def _run(self):
        version = ""
        while not self.stopped:
            try:
                version = self._watch_once(version)
            except Exception as e:  # noqa: BLE001 - reported to the waiting thread
                if self.stopped:
                    return
                with self.cond:
                    self.error = f"watch failed: {e}"
                    self.cond.notify_all()
                return

    def _watch_once(self, version):
        conn = self.api.connect(timeout=None)
        path = "/api/v1/configmaps?watch=1&timeoutSeconds=3600&fieldSelector=metadata.name%3Dfleet"
        if version:
            path += f"&resourceVersion={version}"
        conn.request("GET", path)
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        self.watching.set()
        while not self.stopped:
            line = response.readline()
            if not line:
                return version
            now = time.monotonic()
            event = json.loads(line)
            if event["type"] == "ERROR":
                return ""
            meta = event["object"]["metadata"]
            version = meta.get("resourceVersion", "")
            ns = meta.get("namespace", "")
            step = (meta.get("annotations") or {}).get(STEP_ANNOTATION)
            if not ns.startswith(self.prefix) or step is None or not ns[len(self.prefix):].isdigit():
                continue
            i = int(ns[len(self.prefix):])
            if i < self.n:
                self._record(i, int(step), now)
        return version

    def _record(self, i, step, now):
        with self.cond:
            if step > self.best[i]:
                for k in range(self.best[i] + 1, step + 1):
                    self.reached.setdefault((i, k), now)
                self.best[i] = step
                self.cond.notify_all()

    def wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                if self.error:
                    raise RunFailed(self.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
        return True

    def stop(self):
        self.stopped = True


# -------------------------------------------------------------------------------- the host


def write_definitions(folder, fleet, prefix, fleet_wasm, modules):
    """One WasmOperator definition per operator in folder, each with a byte-distinct copy of the
    module (a fleet is different operators: no compiled code shared between them)."""
    os.makedirs(folder, exist_ok=True)
    for op in fleet:
        module = os.path.join(modules, f"fleet-{op['index']}.wasm")
        if not os.path.exists(module):
            setups.distinct_module(fleet_wasm, module, op["index"])
        doc = {"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
               "metadata": {"name": f"fleet-{op['index']}"},
               "spec": {"module": {"path": module}, "trusted": True,
                        "config": {"namespace": f"{prefix}{op['index']}", "indexKiB": op["index_kib"]}}}
        with open(os.path.join(folder, f"fleet-{op['index']:04d}.yaml"), "w") as f:
            json.dump(doc, f)
    return folder


def read_status(path):
    """The host's status file, with "writtenAt" (its mtime, epoch seconds) added; None if absent."""
    try:
        with open(path) as f:
            status = json.load(f)
            status["writtenAt"] = os.fstat(f.fileno()).st_mtime
            return status
    except (OSError, ValueError):
        return None


def status_totals(status):
    """Sums over the operators of the host's status file."""
    ops = (status or {}).get("operators", [])
    totals = {k: sum(o.get(k, 0) for o in ops) for k in ("reconciles", "reconcileErrors", "restarts")}
    for k in ("swapOuts", "restores", "prefetches", "wakesResident", "wakesSwapped", "residentSeconds", "swappedOut"):
        totals[k] = sum(float(o.get("swap", {}).get(k, 0)) for o in ops)
    totals["operators"] = len(ops)
    totals["writtenAt"] = (status or {}).get("writtenAt", 0)
    totals["wakeLatency"] = (status or {}).get("wakeLatency")
    return totals


class Timeline:
    """Samples the host every interval seconds from launch: total PSS, anonymous PSS, the run's
    cgroup usage (probe.py's readers) and how many operators are resident (status file)."""

    def __init__(self, pid, cgroup, status_file, interval=1.0):
        self.pid, self.cgroup, self.status_file, self.interval = pid, cgroup, status_file, interval
        self.samples = []  # dicts: t (s since launch), pss, pss_anon, cgroup, resident
        self.started = time.monotonic()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join()

    def _run(self):
        while not self.stopped.is_set():
            status = read_status(self.status_file)
            ops = (status or {}).get("operators", [])
            self.samples.append({
                "t": round(time.monotonic() - self.started, 2),
                "pss": probe.pss_bytes([self.pid]),
                "pss_anon": probe.pss_anon_bytes([self.pid]),
                "cgroup": self.cgroup.usage() if self.cgroup else None,
                "resident": sum(1 for o in ops if not o.get("swap", {}).get("swappedOut")) if ops else None,
            })
            self.stopped.wait(self.interval)

    def between(self, key, start, end):
        return [s[key] for s in self.samples if start <= s["t"] <= end and s[key] is not None]


class OwnFiles:
    """The files a launch reads that belong to the benchmark (modules, compiled artifacts),
    for the ring harness's page-cache eviction (setups.Setup.evict_page_cache)."""

    def __init__(self, *folders):
        self.folders = folders

    def own_files(self):
        return [os.path.join(d, f) for d in self.folders for f in os.listdir(d)]

    evict_page_cache = setups.Setup.evict_page_cache


def cgroup_limits(cgroup):
    """The run cgroup's limit, how often usage hit it (memory.failcnt) and OOM kills in it."""
    def read(name):
        with open(os.path.join(cgroup.path, name)) as f:
            return f.read()
    oom = dict(line.split() for line in read("memory.oom_control").splitlines() if len(line.split()) == 2)
    return {"limit_bytes": int(read("memory.limit_in_bytes")), "failcnt": int(read("memory.failcnt")),
            "oom_kills": int(oom.get("oom_kill", 0))}


def host_argv(build, config, definitions, kubeconfig, workdir, artifacts, budget_mib=None):
    flags = [str(budget_mib) if flag == "BUDGET_MIB" else flag for flag in CONFIGS[config]]
    return [os.path.join(build, "host", "wasm-operator"), "run", "--operators", definitions,
            "--kubeconfig", kubeconfig, "--artifact-dir", artifacts,
            "--status-file", os.path.join(workdir, "status.json"),
            "--swap-dir", os.path.join(workdir, "swap"),
            "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0",
            *flags]


def spawn(argv, log_path, cgroup):
    join = None
    if cgroup:
        def join():  # in the child, before exec: charged to the run's cgroup from the start
            with open(os.path.join(cgroup.path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
    log = open(log_path, "wb")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=join)


def warm_artifacts(build, fleet, modules, kubeconfig, workdir, artifacts):
    """Runs the host once until it has loaded every operator, so measured runs map compiled
    artifacts from the cache and no compiler memory is measured (as the ring harness does). Its
    operators watch namespaces that do not exist: they write nothing the measured run sees."""
    n = len(fleet)
    definitions = write_definitions(os.path.join(workdir, "warm-operators"), fleet, "fleet-warm-",
                                    os.path.join(build, "wasm", "fleet.wasm"), modules)
    status = os.path.join(workdir, "status.json")
    host = spawn(host_argv(build, "swap-off", definitions, kubeconfig, workdir, artifacts),
                 os.path.join(workdir, "warm-host.log"), None)
    deadline = time.monotonic() + 120 + 3 * n
    try:
        while status_totals(read_status(status))["operators"] < n:
            if host.poll() is not None or time.monotonic() > deadline:
                raise RunFailed(f"warming the artifact cache failed (log: {workdir}/warm-host.log)")
            time.sleep(0.2)
    finally:
        setups.stop([host])
        if os.path.exists(status):
            os.remove(status)


# --------------------------------------------------------------------------------- one run


def run_one(config, args, deps, build, fleet, modules, artifacts, prefix, kubeconfig=None):
    workdir = tempfile.mkdtemp(prefix=f"wop-fleet-{config}-", dir=os.path.expanduser("~"))
    cgroup = probe.MemoryCgroup(f"fleet-{config}", args.n) if probe.memory_cgroups_available() else None
    try:
        if config in BUDGETED:
            if not cgroup:
                raise RunFailed("a memory budget needs a writable cgroup v1 memory controller")
            with open(os.path.join(cgroup.path, "memory.limit_in_bytes"), "w") as f:
                f.write(str(args.budget_mib << 20))
        if kubeconfig:
            return measure(config, args, deps, build, fleet, modules, artifacts, prefix, kubeconfig, workdir, cgroup)
        with control_plane(deps) as fresh:
            return measure(config, args, deps, build, fleet, modules, artifacts, prefix, fresh, workdir, cgroup)
    except (RunFailed, RuntimeError, OSError, subprocess.CalledProcessError, http.client.HTTPException) as e:
        raise RunFailed(f"{config}: {e} (logs in {workdir})") from e
    finally:
        if cgroup and not cgroup.remove():
            print(f"warning: could not remove {cgroup.path} (tasks left in it)", flush=True)


def measure(config, args, deps, build, fleet, modules, artifacts, prefix, kubeconfig, workdir, cgroup):
    n = args.n
    load_before = os.getloadavg()
    cluster = Cluster(kubeconfig, prefix, n)
    cluster.create()
    definitions = write_definitions(os.path.join(workdir, "operators"), fleet, prefix,
                                    os.path.join(build, "wasm", "fleet.wasm"), modules)
    if len(os.listdir(artifacts)) < n:
        warm_artifacts(build, fleet, modules, kubeconfig, workdir, artifacts)
    OwnFiles(modules, artifacts).evict_page_cache()  # read again at launch, charged to the run's cgroup
    status_file = os.path.join(workdir, "status.json")
    launched = time.monotonic()
    host = spawn(host_argv(build, config, definitions, kubeconfig, workdir, artifacts, args.budget_mib),
                 os.path.join(workdir, "host.log"), cgroup)
    timeline = Timeline(host.pid, cgroup, status_file)
    timeline.start()
    try:
        # Every operator started and reconciled its ConfigMap once (step 0).
        if not cluster.wait(lambda: min(cluster.best) >= 0 or host.poll() is not None, args.start_timeout + n) \
                or host.poll() is not None:
            missing = [i for i, b in enumerate(cluster.best) if b < 0]
            oom = cgroup_limits(cgroup)["oom_kills"] if cgroup else 0
            raise RunFailed(f"{len(missing)} of {n} operators had not reconciled step 0 "
                            + (f"when the host exited with {host.returncode}" if host.poll() is not None
                               else f"within {args.start_timeout + n} s")
                            + (f" (the cgroup's OOM killer killed {oom} process(es))" if oom else ""))
        started_s = time.monotonic() - launched
        replay_start = time.monotonic()
        horizon = args.warmup_s + args.duration_s
        schedule = sorted((at, op["index"]) for op in fleet for at in op["events_s"])
        sent, steps = {}, [0] * n
        measured_from = replay_start + args.warmup_s
        window = {}
        for at, i in schedule:
            due = replay_start + at
            if "start" not in window and due >= measured_from:
                time.sleep(max(0, measured_from - time.monotonic()))
                window["start"] = (time.monotonic(), probe.cpu_seconds([host.pid]), status_totals(read_status(status_file)))
                # The host's part: from its first status written in the window (own_part.py).
                window["first_status"] = own_part.FirstStatusAfter(status_file, time.time_ns())
            time.sleep(max(0, due - time.monotonic()))
            if host.poll() is not None:
                raise RunFailed(f"the host exited with {host.returncode} (log: {workdir}/host.log)")
            steps[i] += 1
            sent[(i, steps[i])] = (time.monotonic(), due >= measured_from)
            cluster.set_step(i, steps[i])
        time.sleep(max(0, replay_start + horizon - time.monotonic()))
        if "start" not in window:
            raise RunFailed("no event in the measured window")
        window["end"] = (time.monotonic(), probe.cpu_seconds([host.pid]), status_totals(read_status(status_file)))
        measured_end_ns = time.time_ns()
        # The last changes reconciled (or not, within the timeout: counted as lost).
        cluster.wait(lambda: all(cluster.best[i] >= steps[i] for i in range(n)), args.settle_s)
        status = read_status(status_file)
        # The host's own part of the same wake-ups (after the settle: every measured change done).
        host_part = own_part.from_host(window["first_status"], (status or {}).get("wakeLatency"), measured_end_ns)
        limits = cgroup_limits(cgroup) if config in BUDGETED else None
    finally:
        if "first_status" in window:
            window["first_status"].stop()
        timeline.stop()
        cluster.stop()
        setups.stop([host])

    t0, t1 = window["start"][0] - launched, window["end"][0] - launched
    latencies = [(cluster.reached[k] - t) * 1000 for k, (t, measured) in sent.items() if measured and k in cluster.reached]
    lost = [k for k, (t, measured) in sent.items() if k not in cluster.reached]
    before, after = window["start"][2], window["end"][2]
    delta = {k: after[k] - before[k] for k in after if k not in ("operators", "swappedOut", "wakeLatency")}
    wakes = delta["wakesResident"] + delta["wakesSwapped"]
    seconds = t1 - t0
    pss, anon, usage = (timeline.between(k, t0, t1) for k in ("pss", "pss_anon", "cgroup"))
    result = {
        "config": config, "repeat": args.repeat_index, "run_order": args.run_order,
        "pss_bytes_median": int(statistics.median(pss)), "pss_bytes_peak": max(pss),
        "pss_anon_bytes_median": int(statistics.median(anon)),
        "cgroup_usage_bytes_median": int(statistics.median(usage)) if usage else None,
        "cgroup_usage_bytes_peak": max(usage) if usage else None,
        # Resident seconds between two writes of the status file, over the time between them.
        "resident_fraction": delta["residentSeconds"] / (n * delta["writtenAt"]),
        "resident_operators_median": statistics.median(timeline.between("resident", t0, t1) or [n]),
        "wake_latency_ms_p50": percentile(latencies, 50) if latencies else None,
        "wake_latency_ms_p99": percentile(latencies, 99) if latencies else None,
        "wake_latency_samples": len(latencies), "lost_changes": len(lost),
        "host_wake_ms": host_part,
        "events_sent": len(sent),
        "cpu_seconds": round(window["end"][1] - window["start"][1], 3), "window_seconds": round(seconds, 3),
        "cpu_utilisation": (window["end"][1] - window["start"][1]) / seconds,
        "swap_outs": int(delta["swapOuts"]), "restores": int(delta["restores"]), "prefetches": int(delta["prefetches"]),
        "wakes_found_resident": int(delta["wakesResident"]), "wakes_found_swapped": int(delta["wakesSwapped"]),
        "found_resident_fraction": delta["wakesResident"] / wakes if wakes else None,
        "reconcile_errors": int(after["reconcileErrors"]), "restarts": int(after["restarts"]),
        "started_s": round(started_s, 3), "window_s": [round(t0, 2), round(t1, 2)],
        "timeline": timeline.samples,
        "cgroup": os.path.basename(cgroup.path) if cgroup else None,
        "load_before": [round(x, 2) for x in load_before],
        "host_memory_view": (status or {}).get("memory"),
        "memory_budget": limits,
    }
    shutil.rmtree(workdir, ignore_errors=True)
    return result


# ------------------------------------------------------------------------------- the benchmark


def settings(args, build, deps):
    host = os.path.join(build, "host", "wasm-operator")
    stub = type("Host", (), {"host": host})()
    return {
        "n": args.n, "size_distribution": f"uniform over [{args.size_min_mib}, {args.size_max_mib}] MiB, whole KiB",
        "seed": args.seed, "traces": TRACE_WEIGHTS, "traces_dir": os.path.relpath(args.traces_dir, ROOT), "speedup": args.speedup,
        "warmup_s": args.warmup_s, "duration_s": args.duration_s, "repeats": args.repeats,
        "configs": {c: " ".join(CONFIGS[c]).replace("BUDGET_MIB", str(args.budget_mib)) or "(host defaults)"
                    for c in CONFIGS},
        "host_idle_ms_default": ring_run.host_default_flag(stub, "swap-idle-ms"),
        "host_predict_default": ring_run.host_default_flag(stub, "swap-predict"),
        "host_budget_default_mib": ring_run.host_default_flag(stub, "swap-memory-budget-mib"),
        "host_workers": f"host default ({ring_run.host_default_flag(stub, 'workers')})",
        "guest": "bench/guests/fleet: 64 lookups, 8 updates per reconcile",
        "modules": "byte-distinct copies of fleet.wasm (no shared compiled code)",
        "memory_cgroup": "v1 memory cgroup per run, page cache of the modules and artifacts dropped before launch"
                         if probe.memory_cgroups_available() else None,
        "control_plane": "shared (given with --kubeconfig)" if args.kubeconfig else "a fresh one per run",
        "versions": {"kubernetes": deps.get("WOP_KUBERNETES_VERSION"), "etcd": deps.get("WOP_ETCD_VERSION"),
                     "wasmtime": deps.get("WOP_WASMTIME_VERSION")},
        "commit": git_commit(), "machine": machine_summary(), "quick": args.quick,
        "command": "bench/fleet/run.py --quick" if args.quick else
                   ("make bench-fleet" if not args.append else "bench/fleet/run.py " + " ".join(sys.argv[1:])),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--n", type=int, default=48, help="operators")
    parser.add_argument("--size-min-mib", type=int, default=1)
    parser.add_argument("--size-max-mib", type=int, default=8)
    parser.add_argument("--speedup", type=float, default=4, help="trace gaps divided by this")
    parser.add_argument("--warmup-s", type=float, default=45, help="replay before the measured window")
    parser.add_argument("--duration-s", type=float, default=60, help="the measured window")
    parser.add_argument("--settle-s", type=float, default=15, help="wait for the last changes")
    parser.add_argument("--start-timeout", type=float, default=90, help="s (+1 per operator) to the first reconciles")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                        help=f"of {', '.join(CONFIGS)}")
    parser.add_argument("--budget-mib", type=int, default=64, help="the -budget configs' cgroup memory limit")
    parser.add_argument("--append", action="store_true",
                        help="add these configs' runs to the existing results (same seed, so the same fleet)")
    parser.add_argument("--seed", type=int, default=None, help="fleet and shuffle seed (default: random, recorded)")
    parser.add_argument("--traces-dir", default=None, help="default: bench/traces (a copy of ../shared/data/traces)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few operators, short windows, one repeat")
    parser.add_argument("--kubeconfig", help="use this control plane for every run instead of fresh ones")
    parser.add_argument("--out", help="write fleet.json and fleet.md (and the plot) here instead of the repo")
    args = parser.parse_args()
    if args.quick:
        args.n, args.speedup, args.warmup_s, args.duration_s, args.repeats, args.settle_s = 6, 8, 5, 15, 1, 10
    json_path = os.path.join(os.path.abspath(args.out) if args.out else os.path.join(ROOT, "bench", "results"),
                             "fleet.json")
    previous = None
    if args.append:
        with open(json_path) as f:
            previous = json.load(f)
        args.seed = previous["settings"]["seed"]
        for key in ("n", "speedup", "warmup_s", "duration_s"):
            setattr(args, key, previous["settings"][key])
    if args.seed is None:
        args.seed = random.randrange(2**31)
    args.traces_dir = os.path.abspath(args.traces_dir or default_traces_dir())
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            parser.error(f"unknown config {c} (known: {', '.join(CONFIGS)})")
    fleet = draw_fleet(args.n, args.seed, args.size_min_mib, args.size_max_mib, args.speedup,
                       args.warmup_s + args.duration_s, args.traces_dir)
    order = [(c, k) for c in configs for k in range(args.repeats)]
    random.Random(args.seed).shuffle(order)
    scratch = tempfile.mkdtemp(prefix="wop-fleet-", dir=os.path.expanduser("~"))
    modules, artifacts = os.path.join(scratch, "modules"), os.path.join(scratch, "artifacts")
    os.makedirs(modules)
    os.makedirs(artifacts)
    runs, failed = [], []
    try:
        for position, (config, k) in enumerate(order):
            args.repeat_index, args.run_order = k, position
            print(f"fleet N={args.n} {config} (run {k + 1} of {args.repeats}) ...", flush=True)
            try:
                r = run_one(config, args, deps, build, fleet, modules, artifacts,
                            f"fleet-{position}-" if args.kubeconfig else "fleet-", args.kubeconfig)
            except RunFailed as e:
                print(f"FAILED: {e}", flush=True)
                failed.append(str(e))
                continue
            print(f"  PSS {r['pss_bytes_median'] / 2**20:.1f} MiB (anon {r['pss_anon_bytes_median'] / 2**20:.1f}), "
                  f"resident {r['resident_fraction']:.3f}, wake p50 {r['wake_latency_ms_p50']} ms "
                  f"p99 {r['wake_latency_ms_p99']} ms ({r['wake_latency_samples']}), CPU {r['cpu_seconds']} s, "
                  f"swap-outs {r['swap_outs']}, restores {r['restores']} (prefetches {r['prefetches']}), "
                  f"lost {r['lost_changes']}", flush=True)
            runs.append(r)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {"settings": settings(args, build, deps), "fleet": fleet, "runs": runs, "failed": failed}
    if any(c in BUDGETED for c in configs):
        result["settings"]["budget_mib"] = args.budget_mib
    if any(c in HOST_BUDGETED for c in configs):
        result["settings"]["host_budget_mib"] = args.budget_mib
    if previous:  # the earlier runs and their settings stay; this invocation's are recorded beside them
        appended = dict(result["settings"], configs_run=configs)
        earlier = previous["settings"].get("appended", [])
        earlier = [a for a in (earlier if isinstance(earlier, list) else [earlier])
                   if not set(a["configs_run"]) <= set(configs)]  # runs replaced by this one
        result = dict(previous, runs=[r for r in previous["runs"] if r["config"] not in configs] + runs,
                      failed=[f for f in previous.get("failed", []) if f.split(":")[0] not in configs] + failed)
        result["settings"] = dict(previous["settings"], appended=earlier + [appended])
        for key in ("budget_mib", "host_budget_mib"):
            if key in appended:
                result["settings"][key] = appended[key]
    out = os.path.abspath(args.out) if args.out else None
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(result, f, indent=1)
    doc = report_fleet.write(result, out or os.path.join(ROOT, "docs", "benchmarks"))
    print(f"wrote {json_path} and {doc}", flush=True)
    if not out:  # the summary atop docs/benchmarks.md quotes this file: it went stale without
        import report_ring
        report_ring.write(ROOT, {"machine": machine_summary(), "deps": deps, "skipped": {}})
    if failed:
        sys.exit("fleet benchmark failed:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    main()
