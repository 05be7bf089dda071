"""docs/benchmarks/scale.md and its plot against N from bench/results/scale.json (written by
bench/scale/run.py). Every figure in the page is read from the results; rewrite the page alone
with:  python3 bench/scale/run.py --report-only
"""
import os
import re
import statistics

from report import P99_GOAL_RATIO, one_machine, ratio_against_goal

MIB = 2**20
GIB = 2**30
LABELS = {"wasm-swap-defaults": "host defaults (idle 2 s, prediction on, the default memory budget)",
          "wasm-swap": "idle 0, no prediction",
          "wasm-swap-budget": "host defaults with the memory budget set by the harness",
          "wasm-swap-ns-watches": "host defaults but one watch per namespace (--cluster-wide-watch-after 0)"}
# Issue 17's goals (and issue 16 item 5's PSS bound), per N.
PSS_GOAL_MIB = {1000: 150, 10000: 400}
READY_GOAL_S = {1000: 10, 10000: 60}


def grouped(runs):
    out = {}
    for r in runs:
        out.setdefault((r["setup"], r["n"]), []).append(r)
    return dict(sorted(out.items(), key=lambda kv: (list(LABELS).index(kv[0][0]) if kv[0][0] in LABELS else 9, kv[0][1])))


def values(runs, key, scale=1.0):
    out = []
    for r in runs:
        v = r
        for part in key.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        if v is not None:
            out.append(v / scale)
    return out


def med(runs, key, scale=1.0):
    v = values(runs, key, scale)
    return statistics.median(v) if v else None


def cell(runs, key, scale=1.0, digits=1):
    """"median (min-max)" over the runs, or "-"."""
    v = values(runs, key, scale)
    if not v:
        return "-"
    text = f"{statistics.median(v):,.{digits}f}"
    return text if len(v) == 1 else f"{text} ({min(v):,.{digits}f}-{max(v):,.{digits}f})"


def derived_cell(runs, fn, digits=2):
    """"median (min-max)" of fn(run) over the runs where it is defined, or "-"."""
    v = [x for x in (fn(r) for r in runs) if x is not None]
    if not v:
        return "-"
    text = f"{statistics.median(v):,.{digits}f}"
    return text if len(v) == 1 else f"{text} ({min(v):,.{digits}f}-{max(v):,.{digits}f})"


def per(run, numerator, denominator):
    """host_status[numerator] / host_status[denominator], None without them."""
    status = run.get("host_status") or {}
    top, bottom = status.get(numerator), status.get(denominator)
    return top / bottom if top is not None and bottom else None


def artifact_mapping_share(run):
    """Percent of restores that mapped their module's artifact again (not kept in memory). With
    distinct modules and a warm artifact cache, each of the N modules is mapped once at start-up
    and once more per such restore (compiled ones count if the cache was not warm). None without
    the module counters, or with identical modules."""
    status = run.get("host_status") or {}
    modules, restores = status.get("modules"), status.get("restores")
    if not modules or not restores or run.get("identical_modules"):
        return None
    mapped_again = modules["loadedFromDisk"] + modules["compiled"] - run["n"]
    return 100 * max(0, mapped_again) / restores


def swapping_lines(groups):
    """What swapping costs per N, from the host's status at the end of each run (whole run:
    start-up and warm-up cycles included), beside the host's CPU per measured hop."""
    lines = ["", "Swapping per N, from the host's status file at the end of each run (the whole run: start-up and "
             "warm-up cycles included), and the host's CPU per measured hop (median (min-max) over the runs). "
             "Time per restore and per swap-out is wall time on the worker. The module cache keeps at most 1,024 "
             "compiled modules of swapped-out operators in memory (`ModuleCache::kDefaultMaxParked`), those whose "
             "operators are due back soonest by the wake predictor (least recently parked first until f56ad1d, which "
             "kept none a cycle longer than 1,024 came back to). A restore whose module is not kept maps and "
             "registers its artifact again: the share of restores that did is counted from the module cache's "
             "counters (runs before they were in the status file show -).", "",
             "| setup | N | restores per reconcile | restores mapping their artifact % | ms per restore "
             "| ms per swap-out | host CPU ms per hop |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for (setup, n), rs in groups.items():
        lines.append(f"| {setup} | {n:,} | {derived_cell(rs, lambda r: per(r, 'restores', 'reconciles'))} "
                     f"| {derived_cell(rs, artifact_mapping_share, digits=1)} "
                     f"| {derived_cell(rs, lambda r: per(r, 'restoreMsTotal', 'restores'))} "
                     f"| {derived_cell(rs, lambda r: per(r, 'swapOutMsTotal', 'swapOuts'))} "
                     f"| {derived_cell(rs, lambda r: 1000 * r['cpu_measured_seconds'] / r['hop_samples'] if r.get('hop_samples') else None)} |")
    return lines


def cold_ready(runs):
    v = values(runs, "cold_ready_s")
    return f"{statistics.median(v):,.1f}" if v else "-"


def goal_lines(groups):
    lines = []
    for setup in LABELS:
        for n, goal in PSS_GOAL_MIB.items():
            runs = groups.get((setup, n))
            if runs:
                pss = med(runs, "pss_steady_bytes", MIB)
                lines.append(f"- Host PSS at N = {n:,}, {LABELS[setup]}: {pss:,.1f} MiB (median of {len(runs)}), "
                             f"goal <= {goal} MiB: **{'met' if pss <= goal else 'missed'}**.")
        for n, goal in READY_GOAL_S.items():
            runs = groups.get((setup, n))
            if runs and values(runs, "ready_s"):
                ready = med(runs, "ready_s")
                lines.append(f"- Launch to /readyz at N = {n:,} (warm artifact cache), {LABELS[setup]}: {ready:,.2f} s, "
                             f"goal <= {goal} s: **{'met' if ready <= goal else 'missed'}**.")
        small, big = groups.get((setup, 100)), groups.get((setup, 1000))
        if small and big and not one_machine(small, big):
            lines.append(f"- Hop p99 at N = 1,000 against N = 100, {LABELS[setup]}: not compared, the two ran on "
                         "different machines.")
        elif small and big:
            ratio, low, high, verdict = ratio_against_goal(
                values(big, "hop_latency_ms_p99"), values(small, "hop_latency_ms_p99"), P99_GOAL_RATIO)
            lines.append(f"- Hop p99 at N = 1,000 against N = 100, {LABELS[setup]}: "
                         f"{med(big, 'hop_latency_ms_p99'):.2f} / {med(small, 'hop_latency_ms_p99'):.2f} ms = {ratio:.2f}x "
                         f"({low:.2f}-{high:.2f}x over every pairing of runs), "
                         f"goal <= {P99_GOAL_RATIO}x: **{verdict}**." + own_part_clause(small, big))
    return lines


def own_part_clause(small, big):
    """How much of the hop p99 at each N is the host's own (bench/ring/own_part.py)."""
    key = "own_part_ms_p99"
    if not values(small, key) or not values(big, key):
        return ""
    worker = "own_part.all.worker_p99_ms"  # recorded since 14f84c8
    waits = ""
    if values(small, worker) and values(big, worker):
        waits = (f" (of which the wait for a worker, event to the start of the worker's slice: "
                 f"{med(big, worker):.2f} against {med(small, worker):.2f} ms)")
    return (f" The host's own part of a hop (event in the host to the return of the reconcile entry that issued "
            f"the write) at p99: {med(big, key):.2f} ms at N = 1,000 against {med(small, key):.2f} ms at N = 100"
            f"{waits}; the rest is the API server's and etcd's.")


def watch_lines(groups):
    """The defaults (one cluster-wide watch past the threshold) against one watch per namespace,
    at each N where both ran: what each costs the API server and the host."""
    lines = []
    for n in sorted({n for _, n in groups}):
        wide, each = groups.get(("wasm-swap-defaults", n)), groups.get(("wasm-swap-ns-watches", n))
        if not wide or not each:
            continue
        if not one_machine(wide, each):
            lines.append(f"- N = {n:,}: one cluster-wide watch against one watch per namespace: not compared, the two "
                         "ran on different machines (re-run both: `bench/scale/run.py --build build --n "
                         f"{n} --setups wasm-swap-defaults,wasm-swap-ns-watches`).")
            continue
        informers = lambda rs: med(rs, "host_status.watches.informers", 1)  # noqa: E731
        parts = [f"informers (watches) in the host {informers(wide):,.0f} against {informers(each):,.0f}"
                 if values(wide, "host_status.watches.informers") and values(each, "host_status.watches.informers") else None]
        for key, label, scale, unit in (("apiserver_pss_steady_bytes", "API server PSS", MIB, " MiB"),
                                        ("apiserver_cpu_measured_seconds", "API server CPU over the measured cycles", 1, " s"),
                                        ("etcd_pss_steady_bytes", "etcd PSS", MIB, " MiB"),
                                        ("pss_steady_bytes", "host PSS", MIB, " MiB"),
                                        ("cpu_measured_seconds", "host CPU over the measured cycles", 1, " s"),
                                        ("hop_latency_ms_p50", "hop p50", 1, " ms"),
                                        ("hop_latency_ms_p99", "hop p99", 1, " ms")):
            if values(wide, key, scale) and values(each, key, scale):
                parts.append(f"{label} {med(wide, key, scale):,.1f}{unit} against {med(each, key, scale):,.1f}{unit}")
        runs = lambda rs: f"{len(rs)} run{'s' if len(rs) > 1 else ''}"  # noqa: E731
        lines.append(f"- N = {n:,}: one cluster-wide watch (host defaults, {runs(wide)}) against one watch per "
                     f"namespace ({runs(each)}), medians: " + "; ".join(p for p in parts if p) + ".")
    return lines


def machine_memory_gib(machine):
    """The memory a machine string names ("2 cores (...), 24 GiB, Linux ..."), or None."""
    found = re.search(r"(\d+(?:\.\d+)?) GiB", machine or "")
    return float(found.group(1)) if found else None


def client_go_lines(client_go_runs, groups):
    """Issue 16 item 5: client-go (one process per operator) at the scale N only if the machine
    holds it, else extrapolated from its measured slope, saying so. The slope is between the two
    largest N of the ring benchmark's client-go runs on one machine; memory that grows a process
    per operator is close to linear in N, latency and CPU are not, so only memory is carried."""
    by_n = {}
    for r in client_go_runs:
        by_n.setdefault(r["n"], []).append(r)
    if not by_n:
        return ["- client-go: no ring runs of it in bench/results (`make bench-ring`), nothing to extrapolate from."]
    pairs = [(top, low) for top in by_n for low in by_n if low < top and one_machine(by_n[low], by_n[top])]
    if not pairs:
        return ["- client-go: no two N of its ring runs ran on one machine; no slope to extrapolate from "
                "(re-run `bench/ring/run.py --build build --n 50,100 --setups client-go`)."]
    top, low = max(pairs)
    machine = by_n[top][0]["settings"]["machine"]
    memory = machine_memory_gib(machine)
    slope = {key: (med(by_n[top], key, MIB) - med(by_n[low], key, MIB)) / (top - low)
             for key in ("pss_steady_bytes", "cgroup_usage_steady_bytes")}
    lines = [f"- Not run here: one process per operator, measured at N = {low:,} and {top:,} (ring benchmark, "
             f"{len(by_n[low])} and {len(by_n[top])} runs, medians; {machine}), adds "
             f"{slope['pss_steady_bytes']:.1f} MiB of PSS and {slope['cgroup_usage_steady_bytes']:.1f} MiB of cgroup "
             "usage (page cache included) per operator. Extrapolated linearly from N = "
             f"{top:,} (memory only: latency and CPU are not linear in the process count):"]
    for n in sorted({n for _, n in groups if n > top}):
        pss = (med(by_n[top], "pss_steady_bytes", MIB) + slope["pss_steady_bytes"] * (n - top)) / 1024
        usage = (med(by_n[top], "cgroup_usage_steady_bytes", MIB) + slope["cgroup_usage_steady_bytes"] * (n - top)) / 1024
        fits = ("" if memory is None else
                f", {'more than' if usage > memory else 'within'} the machine's {memory:g} GiB"
                + (" of memory: not run" if usage > memory else ""))
        host = groups.get(("wasm-swap-defaults", n))
        ours = med(host, "pss_steady_bytes", MIB) if host and one_machine(host, by_n[top]) else None
        against = (f"; the host at its defaults held {ours:,.1f} MiB of PSS at this N on the same machine, "
                   f"1/{pss * 1024 / ours:,.0f} of it" if ours else "")
        lines.append(f"  - N = {n:,}: about {pss:,.1f} GiB of PSS, {usage:,.1f} GiB of cgroup usage{fits}{against}.")
    return lines


def write_plot(path, groups):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = [("pss_steady_bytes", MIB, "host PSS, measured cycles (MiB)"),
              ("ready_s", 1, "launch to /readyz, warm cache (s)"),
              ("hop_latency_ms_p99", 1, "hop p99 (ms)"),
              ("host_shape.threads_steady", 1, "host threads (measured cycles)"),
              ("host_shape.maps_peak", 1, "memory maps (peak)"),
              ("host_shape.vm_size_bytes_peak", 2**40, "virtual memory (peak, TiB)")]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, (key, scale, title) in zip(axes.flat, panels):
        for setup, label in LABELS.items():
            points = sorted((n, med(runs, key, scale)) for (s, n), runs in groups.items() if s == setup)
            points = [(n, v) for n, v in points if v is not None]
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
        ax.set_xscale("log")
        ax.set_xlabel("operators in one host (N)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def without_log_path(error):
    return re.sub(r" \(logs in [^)]*\)$", "", error)


def runs_by_setting(runs, key):
    """settings[key] -> setup -> the N it ran at with that value."""
    sizes = {}
    for r in runs:
        sizes.setdefault(r["settings"][key], {}).setdefault(r["setup"], set()).add(r["n"])
    return sizes


def per_setting_line(sizes):
    return " / ".join(
        f"{value} for " + "; ".join(f"`{setup}` at N = " + ", ".join(f"{n:,}" for n in sorted(ns))
                                    for setup, ns in sorted(by_setup.items()))
        for value, by_setup in sorted(sizes.items()))


def commits_line(runs):
    """Which commit each (setup, N) ran at: rows are re-run one setup or N at a time."""
    return per_setting_line(runs_by_setting(runs, "commit"))


def machines_line(runs):
    """The machine of each (setup, N): rows are re-run piecemeal, sometimes on another VM, and
    figures from two machines (a p99 ratio between two N, say) are no comparison."""
    sizes = runs_by_setting(runs, "machine")
    if len(sizes) == 1:
        return next(iter(sizes))
    return "more than one; compare rows of one machine only: " + per_setting_line(sizes)


def write(out_dir, data, client_go_runs=()):
    """Writes scale.md and scale.png into out_dir (docs/benchmarks for the repository's);
    client_go_runs: the ring benchmark's client-go runs, to extrapolate from."""
    runs, failures = data.get("runs", []), data.get("failures", [])
    groups = grouped(runs)
    lines = ["# Scale: the ring at large N in one host",
             "",
             "Generated by `bench/scale/run.py` (`make bench-scale`) from `bench/results/scale.json`; "
             "every figure below is read from that file. Each run is one ring run of `bench/ring` "
             "(a fresh control plane, N namespaces, N byte-distinct modules in one host, the nonce driven "
             "round the ring) with few cycles, since a lap at large N is long, and at small N enough "
             "cycles for about as many hops as at N = 1,000 (`--min-hops`), so that each N's p99 rests "
             "on as many hops.",
             ""]
    if groups:
        any_run = runs[0]
        settings = any_run["settings"]
        lines += ["## What ran", "",
                  f"- Machine: {machines_line(runs)}; "
                  f"Kubernetes {settings['versions']['kubernetes']}, etcd {settings['versions']['etcd']}, "
                  f"Wasmtime {settings['versions']['wasmtime']}.",
                  "- Commits: " + commits_line(runs) + ".",
                  "- Per run: " + "; ".join(
                      f"{w} warm-up and {c} measured cycles after the first at N = "
                      + ", ".join(f"{n:,}" for n in sorted({r['n'] for r in runs
                                                            if (r['cycles_warmup'], r['cycles_measured']) == (w, c)}))
                      for w, c in sorted({(r["cycles_warmup"], r["cycles_measured"]) for r in runs}))
                  + f"; host workers: {settings['host_workers']}; API client QPS {settings['client_qps']} "
                  "(negative: no limiter); a v1 memory cgroup per run.",
                  "- Setups: " + "; ".join(f"`{s}` = {label}" for s, label in LABELS.items()
                                           if any(r["setup"] == s for r in runs)) + "."
                  + "".join(f" `{s}` ran with a memory budget (`--swap-memory-budget-mib`) of {b} MiB "
                            "(linear memories and compiled code)." if b else f" `{s}` ran with no memory budget."
                            for s, b in sorted({(r["setup"], r["settings"].get("swap_memory_budget_mib"))
                                                for r in runs}, key=str)),
                  "- Time to ready: from the host's launch to its first `/readyz` 200 (every definition loaded "
                  "from the artifact cache, every running operator's informers synced). Cold: the same for the "
                  "warm-up host of the first run of each N, which compiles every module.",
                  "- Threads, virtual memory and maps: of the host process, sampled every 0.5 s from launch; "
                  "peak over the run (for threads, start-up's loader threads included: `wasm-operator run` loads "
                  "up to 8 definitions at once on threads that end once all are loaded), and for threads also "
                  "the median over the measured cycles.",
                  ""]
        lines += ["## Goals (issue 17; issue 16 item 5)", ""] + goal_lines(groups) + [""]
        lines += ["## client-go at these N", ""] + client_go_lines(list(client_go_runs), groups) + [""]
        watches = watch_lines(groups)
        if watches:
            lines += ["## One cluster-wide watch or one watch per namespace", "",
                      "Each ring operator watches ConfigMaps in its own namespace. At the defaults, once 32 "
                      "namespaces of one resource are watched and the host may list and watch it cluster-wide, "
                      "later operators share one cluster-wide watch, filtered by namespace in the host "
                      "(`--cluster-wide-watch-after`); `wasm-swap-ns-watches` keeps one watch per namespace.", ""] \
                + watches + [""]
        lines += ["## Figures", "",
                  "Median (min-max) over the runs of each (setup, N). The host's part of a hop: from the event "
                  "that queued a key in the host to the return of the reconcile entry that issued the write, from "
                  "its status file (`bench/ring/own_part.py`; \"-\" for runs before it was recorded); the rest of a "
                  "hop is the API server's and etcd's.", "",
                  "| setup | N | runs | PSS MiB | anon PSS MiB | cgroup MiB | hop p50 ms | hop p99 ms | host's part p50 / p99 ms "
                  "| ready s (warm) "
                  "| ready s (cold) | threads (cycles / peak) | maps peak | VmSize peak GiB | host CPU s (measured) | apiserver CPU s "
                  "| apiserver PSS MiB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for (setup, n), rs in groups.items():
            lines.append(
                f"| {setup} | {n:,} | {len(rs)} | {cell(rs, 'pss_steady_bytes', MIB)} | {cell(rs, 'pss_anon_steady_bytes', MIB)} "
                f"| {cell(rs, 'cgroup_usage_steady_bytes', MIB)} | {cell(rs, 'hop_latency_ms_p50', 1, 2)} "
                f"| {cell(rs, 'hop_latency_ms_p99', 1, 2)} "
                f"| {cell(rs, 'own_part_ms_p50', 1, 2)} / {cell(rs, 'own_part_ms_p99', 1, 2)} "
                f"| {cell(rs, 'ready_s', 1, 2)} | {cold_ready(rs)} "
                f"| {cell(rs, 'host_shape.threads_steady', 1, 0)} / {cell(rs, 'host_shape.threads_peak', 1, 0)} "
                f"| {cell(rs, 'host_shape.maps_peak', 1, 0)} "
                f"| {cell(rs, 'host_shape.vm_size_bytes_peak', GIB, 0)} | {cell(rs, 'cpu_measured_seconds', 1, 1)} "
                f"| {cell(rs, 'apiserver_cpu_measured_seconds', 1, 1)} | {cell(rs, 'apiserver_pss_steady_bytes', MIB)} |")
        lines += swapping_lines(groups)
        lines += ["", "Where the host's PSS is, from its smaps at the end of the measured cycles (MiB, median (min-max) over the runs):", "",
                  "| setup | N | compiled code | linear memories | heap and other anon | binaries and libraries |",
                  "|---|---:|---:|---:|---:|---:|"]
        for (setup, n), rs in groups.items():
            k = "host_memory_breakdown.smaps_pss_bytes."
            lines.append(f"| {setup} | {n:,} | {cell(rs, k + 'compiled_code', MIB)} | {cell(rs, k + 'linear_memories', MIB)} "
                         f"| {cell(rs, k + 'heap_and_other_anon', MIB)} | {cell(rs, k + 'binaries_and_libraries', MIB)} |")
        write_plot(os.path.join(out_dir, "scale.png"), groups)
        lines += ["", "![host PSS, time to ready, hop p99, threads, maps and virtual memory against N](scale.png)", ""]
    if failures:
        lines += ["## Runs that failed", ""]
        for f in failures:
            lines.append(f"- {f['setup']} N = {f['n']:,} (run {f['repeat'] + 1}), after {f['seconds']:,.0f} s: "
                         f"{without_log_path(f['error'])}")
        lines.append("")
    invocations = data.get("invocations", [])
    if invocations:
        lines += ["## Invocations", ""] + [f"- `bench/scale/run.py {' '.join(i['argv'])}` (seed {i['seed']}, "
                                           f"commit {i['commit']}, {i['started']})" for i in invocations] + [""]
    with open(os.path.join(out_dir, "scale.md"), "w") as f:
        f.write("\n".join(lines))
