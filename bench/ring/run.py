#!/usr/bin/env python3
"""The ring benchmark of issue 6: the same ring operator run by each setup (client-go, native,
combined, wasm-resident, wasm-swap, and the last two with the ring written in Rust:
wasm-resident-rust, wasm-swap-rust), side by side. Writes bench/results/ring-<N>.json and
docs/benchmarks.md (with plots).

  bench/ring/run.py --build BUILD_DIR [--n 10,50,100] [--setups client-go,wasm-resident,...]
                    [--cycles C] [--warmup W] [--repeats R] [--identical-modules]

Each (setup, N) runs R times (--repeats, default 3), in a shuffled order over all (setup,
repeat) pairs of an N; the result file keeps every run and the report gives the median and the
spread (min-max) of each figure.

Each (setup, N) run gets a control plane of its own, started fresh: no setup inherits etcd
history, API server caches or lingering watches from another. In it: the TestResource CRD,
namespaces ring-0..ring-(N-1), then the setup's processes. The harness then drives the ring:
it sets nonce j on ring-0/ring and waits until ring-(N-1)/ring has it. Cycle 1 starts right
after launch, so first_reconcile_s (launch until cycle 1 completes) includes every operator
starting, syncing its caches and reconciling once. Then --warmup cycles, then --cycles
measured ones. A cycle that does not reach ring-(N-1) fails the run (non-zero exit).

Memory is sampled three ways: total PSS and anonymous PSS of the setup's processes, and the
usage of a memory cgroup made for the run (every process of the setup starts in it; the page
cache of the setup's own files is dropped just before launch). The control plane's
kube-apiserver and etcd are measured too: CPU during the measured cycles, PSS over them.
WOP_RING_DEBUG=1 prints when each namespace reached each nonce.
"""
import argparse
import json
import re
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, HERE)
from report import control_plane, git_commit, machine_summary, percentile, read_deps  # noqa: E402
import own_part  # noqa: E402
import probe  # noqa: E402
import report_ring  # noqa: E402
import setups  # noqa: E402

CRD = os.path.join(ROOT, "deploy", "crds", "testresources.yaml")


class RunFailed(Exception):
    pass


def drive_cycle(api, watcher, setup, processes, j, timeout):
    written = time.monotonic()
    api.set_nonce("ring-0", "ring", j, create=(j == 1))
    if not watcher.wait_last(j, timeout):
        raise RunFailed(f"{setup.name} N={setup.n}: cycle {j} did not reach ring-{setup.n - 1} within "
                        f"{timeout:.0f} s; the last namespace reached was {watcher.last_reached(j)}")
    for i, p in enumerate(processes):
        if p.poll() is not None:
            log = setup.logs[len(setup.logs) - len(processes) + i]
            raise RunFailed(f"{setup.name} N={setup.n}: process {i} exited with {p.returncode} "
                            f"during cycle {j} (log: {log})")
    return written


def run_one(name, n, args, deps, build, baselines):
    """One (setup, N) run on a fresh control plane and a memory cgroup of its own (removed
    afterwards, also on failure); on failure the run's folder (logs) is kept."""
    workdir = tempfile.mkdtemp(prefix=f"wop-ring-{name}-{n}-")
    cgroup = probe.MemoryCgroup(name, n) if probe.memory_cgroups_available() else None
    try:
        return measure(name, n, args, deps, build, baselines, workdir, cgroup)
    except (RunFailed, RuntimeError, OSError, subprocess.CalledProcessError) as e:
        raise RunFailed(f"{e} (logs in {workdir})") from e
    finally:
        if cgroup and not cgroup.remove():
            print(f"warning: could not remove {cgroup.path} (tasks left in it)", flush=True)


class Samplers:
    """The samplers of one run, all switched to a phase at once: total PSS, anonymous PSS and
    cgroup usage of the setup; PSS of kube-apiserver and of etcd; with host_pid (a setup of one
    host process), that host's threads, VmSize and map count (self.host_shape, else None)."""

    def __init__(self, roots, cgroup, plane, host_pid=None):
        tree = lambda: probe.process_tree(roots)  # noqa: E731
        self.of_setup = {"pss": probe.MemorySampler(roots),
                         "pss_anon": probe.MemorySampler(roots, measure=lambda: probe.pss_anon_bytes(tree()))}
        if cgroup:
            self.of_setup["cgroup"] = probe.MemorySampler(roots, measure=cgroup.usage)
        self.of_plane = {name: probe.MemorySampler([pid], measure=lambda pid=pid: probe.pss_bytes([pid]))
                         for name, pid in plane.items()}
        self.host_shape = probe.MemorySampler([host_pid], measure=lambda: probe.process_shape(host_pid)) \
            if host_pid else None
        self.all = list(self.of_setup.values()) + list(self.of_plane.values()) + \
            ([self.host_shape] if self.host_shape else [])

    def start(self):
        for s in self.all:
            s.start()

    def set_phase(self, phase):
        for s in self.all:
            s.set_phase(phase)

    def stop(self):
        for s in self.all:
            s.stop()


def median_of(sampler, phase):
    values = sampler.of(phase) if sampler else []
    return int(statistics.median(values)) if values else None


def measure(name, n, args, deps, build, baselines, workdir, cgroup):
    with control_plane(deps) as kubeconfig:
        kubectl = [os.path.join(deps["WOP_KUBE_BIN"], "kubectl"), "--kubeconfig", kubeconfig]
        subprocess.run(kubectl + ["apply", "-f", CRD], check=True, capture_output=True)
        subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/testresources.bench.wasm-operator.dev"],
                       check=True, capture_output=True)
        plane = probe.control_plane_pids(kubeconfig)
        setup = setups.Setup(name, build, baselines.get("clientgo"), kubeconfig, workdir, n, args,
                             exe_crcombined=baselines.get("crcombined"))
        setup.cgroup = cgroup.path if cgroup else None
        setup.prepare()
        api = probe.Api(kubeconfig)
        for i in range(n):
            api.create_namespace(f"ring-{i}")
        watcher = probe.RingWatcher(probe.Api(kubeconfig), n)
        watcher.start()
        watcher.wait_flowing(api)

        setup.evict_page_cache()
        launched = time.monotonic()
        processes = setup.launch()
        # A wasm setup is one host process serving /readyz: its start-up and shape are measured.
        host_pid = processes[0].pid if setup.health_address else None
        sampler = Samplers([p.pid for p in processes], cgroup, plane, host_pid)
        sampler.start()
        ready = probe.ReadyProbe(setup.health_address) if setup.health_address else None
        if ready:
            ready.start()
        try:
            first_written = drive_cycle(api, watcher, setup, processes, 1, args.first_timeout + 0.5 * n)
            first_reconcile_s = watcher.times(1)[n - 1] - launched
            if os.environ.get("WOP_RING_DEBUG"):
                print("cycle 1 written at", round(first_written - launched, 3), "reached:",
                      [round(t - launched, 3) for t in watcher.times(1)])
            sampler.set_phase("warmup")
            for j in range(2, 2 + args.warmup):
                drive_cycle(api, watcher, setup, processes, j, args.cycle_timeout + 0.1 * n)
            sampler.set_phase("measured")
            measured_start_ns = time.time_ns()
            status_path = os.path.join(workdir, "status.json")
            first_status = own_part.FirstStatusAfter(status_path, measured_start_ns) if host_pid else None
            plane_cpu = {k: probe.cpu_seconds([pid]) for k, pid in plane.items()}
            setup_cpu = probe.cpu_seconds(probe.process_tree([p.pid for p in processes]))
            hops, laps = [], []
            last = 1 + args.warmup + args.cycles
            for j in range(2 + args.warmup, last + 1):
                written = drive_cycle(api, watcher, setup, processes, j, args.cycle_timeout + 0.1 * n)
                times = watcher.times(j)
                if os.environ.get("WOP_RING_DEBUG"):
                    print(f"cycle {j}:", [round((t - written) * 1000, 1) for t in times])
                hops += [(b - a) * 1000 for a, b in zip(times, times[1:])]
                laps.append((times[-1] - written) * 1000)
            measured_end_ns = time.time_ns()
            pids = probe.process_tree([p.pid for p in processes])
            cpu = probe.cpu_seconds(pids)
            cpu_measured = cpu - setup_cpu
            plane_cpu = {k: probe.cpu_seconds([pid]) - plane_cpu[k] for k, pid in plane.items()}
            breakdown = probe.pss_breakdown(pids)
            host_memory = None
            if setup.mode in setups.WASM_SETUPS:  # one host process: where its memory is, at the same moment
                host_memory = {"smaps_pss_bytes": probe.smaps_categories(processes[0].pid, setup.artifacts, setup.swap_dir),
                               "host_view": (setup.host_summary() or {}).get("memory")}
            wall = time.monotonic() - launched
            sampler.set_phase("idle")
            time.sleep(args.idle_s)
            nonces = api.nonces()
            host_status = setup.host_summary()
            own = own_part.from_host(first_status, own_part.read_latency(status_path), measured_end_ns) \
                if first_status else None
        finally:
            if first_status:
                first_status.stop()
            sampler.stop()
            if ready:
                ready.stop()
            watcher.stop()
            setups.stop(processes)
        if setup.own_part_files:
            own = own_part.from_files(setup.own_part_files, measured_start_ns, measured_end_ns)
        wrong = {f"ring-{i}": nonces.get(f"ring-{i}") for i in range(n) if nonces.get(f"ring-{i}") != last}
        if wrong:
            raise RunFailed(f"{name} N={n}: after the run, these namespaces do not hold nonce {last}: {wrong}")

    memory = sampler.of_setup
    measured = memory["pss"].of("measured")
    cgroup_samples = memory["cgroup"].of() if "cgroup" in memory else []
    result = {
        "setup": name, "n": n,
        "pss_steady_bytes": int(statistics.median(measured)),
        "pss_peak_bytes": max(memory["pss"].of()),
        "pss_idle_bytes": median_of(memory["pss"], "idle"),
        "pss_steady_per_operator_bytes": int(statistics.median(measured) / n),
        "pss_anon_steady_bytes": median_of(memory["pss_anon"], "measured"),
        "pss_anon_idle_bytes": median_of(memory["pss_anon"], "idle"),
        "cgroup_usage_steady_bytes": median_of(memory.get("cgroup"), "measured"),
        "cgroup_usage_peak_bytes": max(cgroup_samples) if cgroup_samples else None,
        "cgroup_usage_idle_bytes": median_of(memory.get("cgroup"), "idle"),
        "cgroup": os.path.basename(cgroup.path) if cgroup else None,
        "hop_latency_ms_p50": percentile(hops, 50), "hop_latency_ms_p99": percentile(hops, 99),
        "round_trip_ms_p50": percentile(laps, 50), "round_trip_ms_p99": percentile(laps, 99),
        "cpu_seconds": round(cpu, 2), "cpu_measured_seconds": round(cpu_measured, 2), "wall_seconds": round(wall, 2),
        "apiserver_cpu_measured_seconds": round(plane_cpu["kube-apiserver"], 2) if "kube-apiserver" in plane_cpu else None,
        "etcd_cpu_measured_seconds": round(plane_cpu["etcd"], 2) if "etcd" in plane_cpu else None,
        "apiserver_pss_steady_bytes": median_of(sampler.of_plane.get("kube-apiserver"), "measured"),
        "etcd_pss_steady_bytes": median_of(sampler.of_plane.get("etcd"), "measured"),
        "watch_sharing": setups.watch_sharing(name),
        "repeat": args.repeat_index, "repeats": args.repeats, "run_order": args.run_order,
        "first_reconcile_s": round(first_reconcile_s, 3),
        "ready_s": round(ready.ready_at - launched, 3) if ready and ready.ready_at else None,
        "cold_ready_s": setup.cold_ready_s,
        "host_shape": shape_summary(sampler.host_shape),
        "pss_breakdown_bytes": breakdown,
        "host_memory_breakdown": host_memory,
        "processes": len(processes), "identical_modules": setup.shared,
        "cycles_measured": args.cycles, "cycles_warmup": args.warmup, "hop_samples": len(hops),
        "memory_samples_measured": len(measured), "notes": sorted(set(setup.notes)),
        "host_status": host_status,
        # The setup's own part of a hop (own_part.py): its p50 and p99, and how it was measured.
        "own_part_ms_p50": own and own["all"]["p50_ms"], "own_part_ms_p99": own and own["all"]["p99_ms"],
        # The host's part before its reconcile entry began (the wait for a worker, a restore on the way).
        "own_part_started_ms_p50": own and own["all"].get("started_p50_ms"),
        "own_part": own,
        "settings": run_settings(setup, args, deps),
    }
    if os.environ.get("WOP_RING_DEBUG"):
        print("kept", workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def shape_summary(shape):
    """The host's threads, virtual memory and map count: the median over the measured cycles
    and the largest seen from launch on (start-up included); None for setups of many processes."""
    if not shape:
        return None
    out = {}
    for key in ("threads", "vm_size_bytes", "maps"):
        measured = [s[key] for s in shape.of("measured") if s[key] is not None]
        seen = [s[key] for s in shape.of() if s[key] is not None]
        out[key + "_steady"] = int(statistics.median(measured)) if measured else None
        out[key + "_peak"] = max(seen) if seen else None
    return out


def host_default_flag(setup, flag):
    """The default the host's `run --help` states for --flag (as text), or "host default"."""
    match = re.search(r"--" + re.escape(flag) + r"\b[^\n]*\bdefault:? ([^),\s]+)", setups.host_usage(setup.host))
    if not match:
        return "host default"
    value = match.group(1).strip()
    return int(value) if value.isdigit() else value


def run_settings(setup, args, deps):
    """Every setting that produced a result, recorded beside it (the report prints them)."""
    swapping = setup.mode == "wasm-swap"
    return {
        "swap": "on" if swapping else ("off" if setup.mode == "wasm-resident" else None),
        "swap_idle_ms": (host_default_flag(setup, "swap-idle-ms") if setup.host_swap_defaults else args.swap_idle_ms)
                        if swapping else None,
        "swap_predict": (host_default_flag(setup, "swap-predict") if setup.host_swap_defaults else args.swap_predict)
                        if swapping else None,
        "swap_settings": ("the host's defaults" if setup.host_swap_defaults else "the harness's flags") if swapping else None,
        "swap_memory_budget_mib": (args.swap_budget_mib if setup.host_budget
                                   else host_default_flag(setup, "swap-memory-budget-mib")) if swapping else None,
        "cluster_wide_watch_after": (0 if setup.host_ns_watches else host_default_flag(setup, "cluster-wide-watch-after"))
                                    if setup.mode.startswith("wasm-") else None,
        "identical_modules": setup.shared,
        "client_qps": args.client_qps, "client_burst": args.client_burst if args.client_qps != "default" else None,
        "host_workers": host_default_flag(setup, "workers") if setup.mode.startswith("wasm-") else None,
        "cycles_measured": args.cycles, "cycles_warmup": args.warmup, "idle_sampling_s": args.idle_s,
        "repeats": args.repeats, "shuffle_seed": args.seed,
        "memory_cgroup": "v1 memory cgroup per run, page cache of the setup's files dropped before launch"
                         if probe.memory_cgroups_available() else None,
        "artifact_cache": ("cold (compiled by the measured launch)" if args.cold_artifacts
                           else "warm (one host run before the measured one)") if setup.mode.startswith("wasm-") else None,
        "versions": {"kubernetes": deps.get("WOP_KUBERNETES_VERSION"), "etcd": deps.get("WOP_ETCD_VERSION"),
                     "wasmtime": deps.get("WOP_WASMTIME_VERSION")},
        "commit": git_commit(), "machine": machine_summary(),
    }


def save(n, results):
    """Merges results into bench/results/ring-<n>.json, replacing earlier runs of the same setups."""
    path = os.path.join(ROOT, "bench", "results", f"ring-{n}.json")
    old = []
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    names = {r["setup"] for r in results}
    merged = [r for r in old if r["setup"] not in names] + results
    order = {s: i for i, s in enumerate(setups.ALL)}
    merged.sort(key=lambda r: (order.get(setups.base_name(r["setup"]), 99), r["setup"], r.get("repeat") or 0))
    with open(path, "w") as f:
        json.dump(merged, f, indent=2)


def add_run_arguments(parser, cycles, warmup):
    """The arguments run_one reads (one ring run), shared with harnesses built on it (bench/scale)."""
    parser.add_argument("--cycles", type=int, default=cycles, help="measured cycles per run")
    parser.add_argument("--seed", type=int, default=None, help="seed of the shuffle (default: a random one, recorded)")
    parser.add_argument("--warmup", type=int, default=warmup, help="cycles after the first, not measured")
    parser.add_argument("--idle-s", type=float, default=5, help="seconds of memory sampling after the cycles")
    # Laps run back to back, so every operator is woken once a lap: with an idle period or
    # prediction it would simply stay resident. 0 and no prediction swap each one out as soon as
    # it has passed the nonce on, the setting that shows what swapping saves and costs.
    parser.add_argument("--swap-idle-ms", type=int, default=0, help="wasm-swap: idle time before swap-out")
    parser.add_argument("--swap-predict", choices=("on", "off"), default="off", help="wasm-swap: wake-up prediction")
    parser.add_argument("--swap-budget-mib", type=int, default=64,
                        help="wasm-swap-budget: the host's --swap-memory-budget-mib")
    parser.add_argument("--client-qps", default="-1",
                        help="API client QPS passed to every setup (--qps); negative: no limiter; "
                             "'default': each implementation's own default")
    parser.add_argument("--client-burst", type=int, default=100, help="API client burst passed with --client-qps")
    parser.add_argument("--first-timeout", type=float, default=120, help="seconds for cycle 1 (+0.5 s per operator)")
    parser.add_argument("--cycle-timeout", type=float, default=10, help="seconds per cycle (+0.1 s per operator)")
    parser.add_argument("--cold-artifacts", action="store_true",
                        help="wasm setups: no warm-up run, so the measured launch compiles every module")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--n", default="10,50,100", help="ring sizes, comma-separated (200 is opt-in)")
    parser.add_argument("--setups", default=",".join(setups.ALL))
    parser.add_argument("--identical-modules", action="store_true",
                        help="also run wasm-resident with identical modules (wasm-resident-shared); "
                             "any per-operator setup can also be named <setup>-shared in --setups")
    add_run_arguments(parser, cycles=100, warmup=20)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (setup, N), in a shuffled order")
    parser.add_argument("--no-report", action="store_true", help="only write the JSON results")
    parser.add_argument("--report-only", action="store_true", help="only rewrite docs/benchmarks.md from the JSON results")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    context = {"machine": machine_summary(), "deps": deps, "skipped": {}}
    if args.report_only:
        report_ring.write(ROOT, context)
        return
    names = [s for s in args.setups.split(",") if s]
    for s in names:
        if setups.base_name(s) not in setups.ALL or (s.endswith("-shared") and setups.base_name(s) in setups.COMBINED):
            parser.error(f"unknown setup {s} (known: {', '.join(setups.ALL)}, and <per-operator setup>-shared)")
    if args.identical_modules:
        names += [s + "-shared" for s in names if s == "wasm-resident" and s + "-shared" not in names]
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    baselines = {}
    for base, go_name in (("client-go", "clientgo"), ("controller-runtime-combined", "crcombined")):
        if any(setups.base_name(s) == base for s in names):
            baselines[go_name] = subprocess.run(["bash", os.path.join(ROOT, "scripts", "setup-ring-baselines.sh"), go_name],
                                                check=True, capture_output=True, text=True).stdout.strip()
    if args.seed is None:
        args.seed = random.randrange(2**31)
    shuffle = random.Random(args.seed)
    if not probe.memory_cgroups_available():
        print(f"no writable cgroup v1 memory controller at {probe.CGROUP_V1_MEMORY}: cgroup usage not measured",
              flush=True)

    skipped, failed = context["skipped"], []
    for n in [int(x) for x in args.n.split(",")]:
        runnable = []
        for name in names:
            reason = setups.Setup(name, build, baselines.get("clientgo"), None, None, n, args,
                                  exe_crcombined=baselines.get("crcombined")).skip_reason()
            if reason:
                skipped[name] = reason
                print(f"{name} skipped: {reason}", flush=True)
            else:
                runnable.append(name)
        order = [(name, k) for name in runnable for k in range(args.repeats)]
        shuffle.shuffle(order)
        results = []
        for position, (name, k) in enumerate(order):
            args.repeat_index, args.run_order = k, position
            print(f"ring N={n} {name} (run {k + 1} of {args.repeats}) ...", flush=True)
            try:
                r = run_one(name, n, args, deps, build, baselines)
            except RunFailed as e:
                print(f"FAILED: {e}", flush=True)
                failed.append(str(e))
                continue
            cg = r["cgroup_usage_steady_bytes"]
            print(f"  PSS {r['pss_steady_bytes'] / 2**20:.1f} MiB (peak {r['pss_peak_bytes'] / 2**20:.1f}, anon "
                  f"{r['pss_anon_steady_bytes'] / 2**20:.1f}), cgroup "
                  f"{'-' if cg is None else f'{cg / 2**20:.1f} MiB'}, hop p50 "
                  f"{r['hop_latency_ms_p50']:.2f} ms p99 {r['hop_latency_ms_p99']:.2f} ms, CPU {r['cpu_seconds']:.1f} s, "
                  f"first reconcile {r['first_reconcile_s']:.2f} s; apiserver CPU {r['apiserver_cpu_measured_seconds']} s, "
                  f"etcd CPU {r['etcd_cpu_measured_seconds']} s", flush=True)
            results.append(r)
        if results:
            save(n, results)
    if not args.no_report:
        report_ring.write(ROOT, context)
    if failed:
        sys.exit("ring benchmark failed:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    main()
