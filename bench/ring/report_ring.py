"""Writes docs/benchmarks.md and its plots from every bench/results/ring-<N>.json present.

A result file holds every run of each (setup, N); the report folds the runs of one (setup, N)
into one row (aggregate): each figure is the median over the runs, and the spread (min-max)
is printed beside it. Files from before repeats hold one run per setup: R = 1, no spread."""
import glob
import json
import os
import statistics
import sys
import subprocess

from report import one_machine

MIB = 2**20
COLORS = {"client-go": "#C44E52", "native": "#8172B2", "combined": "#937860", "controller-runtime-combined": "#DA8BC3",
          "wasm-resident": "#4C72B0", "wasm-swap": "#55A868", "wasm-swap-defaults": "#2E7D32",
          "wasm-resident-rust": "#64B5CD", "wasm-swap-rust": "#CCB974"}


ORDER = ("client-go", "client-go-shared", "native", "combined", "controller-runtime-combined", "wasm-resident",
         "wasm-resident-shared", "wasm-swap", "wasm-swap-defaults", "wasm-resident-rust", "wasm-swap-rust")
# The default set of `make bench-ring` (with --identical-modules): missing ones are listed.
EXPECTED = ("client-go", "client-go-shared", "native", "combined", "controller-runtime-combined", "wasm-resident",
            "wasm-resident-shared", "wasm-swap", "wasm-swap-defaults")

# The figures of a run that the report folds over repeats: median, and min-max as the spread.
FIGURES = ("pss_steady_bytes", "pss_peak_bytes", "pss_idle_bytes", "pss_steady_per_operator_bytes",
           "pss_anon_steady_bytes", "pss_anon_idle_bytes", "cgroup_usage_steady_bytes", "cgroup_usage_peak_bytes",
           "cgroup_usage_idle_bytes", "hop_latency_ms_p50", "hop_latency_ms_p99", "round_trip_ms_p50",
           "round_trip_ms_p99", "cpu_seconds", "cpu_measured_seconds", "wall_seconds", "first_reconcile_s",
           "apiserver_cpu_measured_seconds", "etcd_cpu_measured_seconds", "apiserver_pss_steady_bytes",
           "etcd_pss_steady_bytes", "own_part_ms_p50", "own_part_ms_p99", "own_part_started_ms_p50")


def load_runs(root):
    runs = []
    for path in glob.glob(os.path.join(root, "bench", "results", "ring-*.json")):
        with open(path) as f:
            runs += json.load(f)
    return runs


def aggregate(runs):
    """One row per (N, setup): the run closest to the median steady PSS (for the nested parts:
    breakdowns, host status, settings, notes), with every figure replaced by its median over
    the runs; row["spread"][figure] = (min, max) and row["runs"] = how many runs."""
    groups = {}
    for r in runs:
        groups.setdefault((r["n"], r["setup"]), []).append(r)
    rows = []
    for group in groups.values():
        group.sort(key=lambda r: r["pss_steady_bytes"])
        row = dict(group[(len(group) - 1) // 2])
        row["runs"], row["spread"] = len(group), {}
        row["notes"] = sorted({note for r in group for note in r.get("notes", [])})
        for key in FIGURES:
            values = [r[key] for r in group if r.get(key) is not None]
            if values:
                row[key] = statistics.median(values)
                row["spread"][key] = (min(values), max(values))
            else:
                row[key] = None
        rows.append(row)
    return rows


def load(root):
    rank = lambda s: ORDER.index(s) if s in ORDER else len(ORDER)  # noqa: E731
    return sorted(aggregate(load_runs(root)), key=lambda r: (r["n"], rank(r["setup"]), r["setup"]))


def cell(r, key, scale=1, digits=1):
    """A figure's median, with its spread (min-max) when there is more than one run."""
    value = r.get(key)
    if value is None:
        return "-"
    text = f"{value / scale:.{digits}f}"
    low, high = r.get("spread", {}).get(key, (value, value))
    if r.get("runs", 1) > 1:
        text += f" ({low / scale:.{digits}f}-{high / scale:.{digits}f})"
    return text


def by_n(rows):
    out = {}
    for r in rows:
        out.setdefault(r["n"], []).append(r)
    return dict(sorted(out.items()))


def color(setup):
    return COLORS.get(setup.replace("-shared", ""), "#999999")


def plot_memory(path, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for setup in dict.fromkeys(r["setup"] for r in rows):
        pts = sorted((r["n"], r["pss_steady_bytes"] / MIB) for r in rows if r["setup"] == setup)
        style = "--" if setup.endswith("-shared") else "-"
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", label=setup, color=color(setup))
    ax.set_xlabel("ring operators (N)")
    ax.set_ylabel("total PSS, MiB (log)")
    ax.set_yscale("log")
    ax.set_title("Memory of each setup against N (steady state)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(path, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    groups = by_n(rows)
    fig, axes = plt.subplots(1, len(groups), figsize=(3.2 * len(groups) + 1, 3.4), squeeze=False)
    for ax, (n, rs) in zip(axes[0], groups.items()):
        labels = [r["setup"] for r in rs]
        p50 = [r["hop_latency_ms_p50"] for r in rs]
        p99 = [r["hop_latency_ms_p99"] for r in rs]
        ax.barh(labels, p99, color="#dddddd", label="p99")
        ax.barh(labels, p50, color=[color(s) for s in labels], label="p50")
        ax.set_title(f"N = {n}")
        ax.set_xlabel("per-hop latency, ms")
        ax.invert_yaxis()
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Per-hop latency (bar: p50, grey: p99)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sharing(r):
    return r.get("watch_sharing") or ("shared (one process)" if r["setup"].split("-shared")[0] in ONE_PROCESS
                                      else "none (a process each)")


ONE_PROCESS = ("combined", "controller-runtime-combined", "wasm-resident", "wasm-swap", "wasm-resident-rust",
               "wasm-swap-rust")


def table(rows):
    """Memory three ways, latency and CPU of each setup: median (min-max) over its runs."""
    head = ("| setup | runs | processes | watch sharing | PSS steady (MiB) | anon PSS steady (MiB) | cgroup usage steady (MiB) "
            "| PSS peak (MiB) | cgroup peak (MiB) | PSS idle (MiB) | anon PSS idle (MiB) | cgroup idle (MiB) "
            "| PSS per operator (MiB) | hop p50 (ms) | hop p99 (ms) | lap p50 (ms) | lap p99 (ms) "
            "| CPU launch to end (s) | CPU measured cycles (s) | first reconcile (s) |\n"
            "|---|---:|---:|---|" + "---:|" * 16 + "\n")
    lines = []
    for r in rows:
        lines.append(f"| {r['setup']} | {r.get('runs', 1)} | {r['processes']} | {sharing(r)} "
                     f"| {cell(r, 'pss_steady_bytes', MIB)} | {cell(r, 'pss_anon_steady_bytes', MIB)} "
                     f"| {cell(r, 'cgroup_usage_steady_bytes', MIB)} | {cell(r, 'pss_peak_bytes', MIB)} "
                     f"| {cell(r, 'cgroup_usage_peak_bytes', MIB)} | {cell(r, 'pss_idle_bytes', MIB)} "
                     f"| {cell(r, 'pss_anon_idle_bytes', MIB)} | {cell(r, 'cgroup_usage_idle_bytes', MIB)} "
                     f"| {cell(r, 'pss_steady_per_operator_bytes', MIB, 2)} "
                     f"| {cell(r, 'hop_latency_ms_p50', 1, 2)} | {cell(r, 'hop_latency_ms_p99', 1, 2)} "
                     f"| {cell(r, 'round_trip_ms_p50')} | {cell(r, 'round_trip_ms_p99')} "
                     f"| {cell(r, 'cpu_seconds')} | {cell(r, 'cpu_measured_seconds', 1, 2)} "
                     f"| {cell(r, 'first_reconcile_s', 1, 2)} |")
    return head + "\n".join(lines)


def control_plane_table(rows):
    """What each setup costs the API server and etcd (both per run), beside its own CPU and its
    own part of a hop."""
    if not any(r.get("apiserver_cpu_measured_seconds") is not None for r in rows):
        return ""
    head = ("| setup | runs | setup CPU (s) | own part of a hop p50 (ms) | own part p99 (ms) | hop p50 (ms) "
            "| kube-apiserver CPU (s) | etcd CPU (s) | kube-apiserver PSS (MiB) "
            "| etcd PSS (MiB) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    lines = [f"| {r['setup']} | {r.get('runs', 1)} | {cell(r, 'cpu_measured_seconds', 1, 2)} "
             f"| {cell(r, 'own_part_ms_p50', 1, 2)} | {cell(r, 'own_part_ms_p99', 1, 2)} "
             f"| {cell(r, 'hop_latency_ms_p50', 1, 2)} "
             f"| {cell(r, 'apiserver_cpu_measured_seconds', 1, 2)} | {cell(r, 'etcd_cpu_measured_seconds', 1, 2)} "
             f"| {cell(r, 'apiserver_pss_steady_bytes', MIB)} | {cell(r, 'etcd_pss_steady_bytes', MIB)} |"
             for r in rows if r.get("apiserver_cpu_measured_seconds") is not None]
    cycles = sorted({r["cycles_measured"] for r in rows if r.get("apiserver_cpu_measured_seconds") is not None})
    return (f"The control plane during the measured cycles ({' or '.join(map(str, cycles))} laps): CPU seconds "
            "of each process over those cycles, PSS as the median of samples over them. Beside them, each "
            "setup's own part of a hop: from the event that queued a key in its process to the return of the "
            "reconcile (entry) that issued the write (`bench/ring/own_part.py`: the wasm host's status file, "
            "client-go's per-process samples; \"-\" where a setup does not report it). The rest of a hop is the "
            "API server's and etcd's.\n\n" + head + "\n".join(lines))


def marginal(rows):
    """PSS each added operator costs: the slope between the smallest and largest N of a setup."""
    lines = []
    for setup in dict.fromkeys(r["setup"] for r in rows):
        ends = sorted((r for r in rows if r["setup"] == setup), key=lambda r: r["n"])
        if len(ends) >= 2 and ends[-1]["n"] > ends[0]["n"]:
            first, last = ends[0], ends[-1]
            slope = (last["pss_steady_bytes"] - first["pss_steady_bytes"]) / (last["n"] - first["n"]) / MIB
            machines = "" if one_machine([first], [last]) else " (the two rows ran on different machines)"
            lines.append(f"| {setup} | {slope:.3f} | N = {first['n']} to {last['n']}{machines} |")
    if not lines:
        return ""
    return "| setup | PSS per added operator (MiB) | from |\n|---|---|---|\n" + "\n".join(lines)


def where_memory_goes(groups):
    """A few sentences from the anon/file split of the wasm setups at N = 100."""
    rows = {r["setup"]: r for r in groups.get(100, []) if r.get("pss_breakdown_bytes")}
    res, shared, swap = rows.get("wasm-resident"), rows.get("wasm-resident-shared"), rows.get("wasm-swap")
    if not res or not shared:
        return ""
    f = lambda r, k: r["pss_breakdown_bytes"][k] / MIB  # noqa: E731
    text = (f"At N = 100 the wasm host's PSS is {f(res, 'file'):.1f} MiB of mapped files and {f(res, 'anon'):.1f} MiB "
            f"anonymous (heap, informer caches, linear memories). With one module shared by all operators the file part "
            f"is {f(shared, 'file'):.1f} MiB: the difference, {(f(res, 'file') - f(shared, 'file')) / 99 * 1024:.0f} KiB "
            f"per added byte-distinct module, is each module's compiled code mapped from the artifact cache. ")
    if swap and swap.get("host_status"):
        h = swap["host_status"]
        text += (f"Swapping out drops an operator's instance, its linear memory and its hold on the compiled "
                 f"module (the module cache keeps up to 1024 such modules mapped with their clean code "
                 f"pages given back, so a restore faults in the code it runs instead of mapping the "
                 f"artifact again; docs/swap.md): wasm-swap's PSS is {f(swap, 'anon'):.1f} MiB anonymous and "
                 f"{f(swap, 'file'):.1f} MiB of mapped files. In that run the host "
                 f"swapped out {h['swapOuts']:,} times and restored {h['restores']:,} times; "
                 f"{h['wakesSwapped']:,} of {h['wakesSwapped'] + h['wakesResident']:,} wake-ups found the operator "
                 f"swapped out (idle period 0, no prediction: each operator goes back to disk as soon as it "
                 f"has passed the nonce on). What that costs is the hop latency and CPU above: a restore "
                 f"on every hop, and a swap-out after it.")
        if h.get("restoreMsTotal") and h["restores"] and h["swapOuts"]:
            text += (f" By the host's own timing (warm-up cycles included) a restore took "
                     f"{h['restoreMsTotal'] / h['restores']:.2f} ms on average and a swap-out "
                     f"{h['swapOutMsTotal'] / h['swapOuts']:.2f} ms.")
    return "### Where the memory goes\n\n" + text


HOST_PARTS = [("compiled_code", "compiled code"), ("linear_memories", "linear memories"), ("stacks", "thread stacks"),
              ("binaries_and_libraries", "binary and libraries"), ("heap_and_other_anon", "heap and other anonymous")]


def host_breakdown(groups):
    """The wasm host's PSS split by mapping (from /proc/PID/smaps at the end of the measured
    cycles), and the host's own view of its heap, at the largest N that has one."""
    for n in sorted(groups, reverse=True):
        rows = [r for r in groups[n] if r.get("host_memory_breakdown")]
        if rows:
            break
    else:
        return ""
    head = ("| setup | PSS (MiB) | " + " | ".join(label for _, label in HOST_PARTS) +
            " | heap in use (malloc) | of which informer caches |\n|---|---|" + "---|" * (len(HOST_PARTS) + 2) + "\n")
    lines = []
    for r in rows:
        parts, view = r["host_memory_breakdown"]["smaps_pss_bytes"], r["host_memory_breakdown"].get("host_view") or {}
        cells = " | ".join(f"{parts[k] / MIB:.1f}" for k, _ in HOST_PARTS)
        heap = f"{view['heapInUseBytes'] / MIB:.1f}" if "heapInUseBytes" in view else "-"
        caches = (f"{view['cachedObjectBytes'] / MIB:.2f} ({view['cachedObjects']:,} objects)"
                  if "cachedObjectBytes" in view else "-")
        lines.append(f"| {r['setup']} | {sum(parts.values()) / MIB:.1f} | {cells} | {heap} | {caches} |")
    return (f"### The wasm host's memory by part (N = {n})\n\n"
            "PSS of the host process by what its mappings hold, read from `/proc/PID/smaps` right after the "
            "measured cycles: compiled code is what is mapped from the artifact cache; linear memories are "
            "Wasmtime's reservations (and snapshot layers mapped into them by restores); the heap holds the "
            "engine, the operators' host state, queues, HTTP/2 streams and the informer caches. The last two "
            "columns are the host's own view from its status file: bytes malloc has handed out, and the "
            "informer caches' share by the stores' accounting.\n\n" + head + "\n".join(lines))


def verdict(rows, setup, other, key, limit, what, unit):
    """One line of the targets: met or missed, and by how much; or why it is not known."""
    a = next((r for r in rows if r["setup"] == setup), None)
    b = next((r for r in rows if r["setup"] == other), None)
    if a is None or b is None:
        missing = " and ".join(s for s, r in ((setup, a), (other, b)) if r is None)
        return f"| {what} | not measured ({missing} missing at N = 100) | - |"
    if not one_machine([a], [b]):
        return (f"| {what} | not compared: {setup} and {other} ran on different machines (re-run both) | "
                f"{unit(a[key])} vs {unit(b[key])} |")
    ratio = a[key] / b[key]
    state = "met" if ratio <= limit else "missed"
    margin = f"{(limit - ratio) / limit * 100:.0f}% under the limit" if ratio <= limit else f"{ratio / limit:.2f}x over the limit"
    return f"| {what} | {ratio:.3g}x ({state}: {margin}) | {unit(a[key])} vs {unit(b[key])} |"


def targets(groups):
    rows = groups.get(100, [])
    pss, hop = "pss_steady_bytes", "hop_latency_ms_p50"
    mib, ms = (lambda b: f"{b / MIB:.1f} MiB"), (lambda v: f"{v:.2f} ms")  # noqa: E731
    return "\n".join([
        "| target (N = 100) | measured ratio | values |", "|---|---|---|",
        verdict(rows, "wasm-swap", "client-go", pss, 0.03, "wasm-swap PSS <= 3% of client-go", mib),
        verdict(rows, "wasm-swap", "combined", pss, 1.5, "wasm-swap PSS <= 1.5x combined", mib),
        verdict(rows, "wasm-resident", "client-go", pss, 0.10, "wasm-resident PSS <= 10% of client-go", mib),
        verdict(rows, "wasm-resident", "client-go", hop, 1.2, "wasm-resident hop p50 <= 1.2x client-go", ms),
        verdict(rows, "wasm-swap", "client-go", hop, 1.2, "wasm-swap hop p50 <= 1.2x client-go", ms),
    ])


def go_version():
    try:
        return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def pods_section(root):
    """The pods benchmark's summary (bench/pods), generated from bench/results/pods.json."""
    sys.path.insert(0, os.path.join(root, "bench", "pods"))
    import report_pods
    try:
        data = report_pods.load(root)
    except OSError:
        return "## The ring as Pods on a real node\n\nNot measured yet: `make bench-pods`."
    return ("## The ring as Pods on a real node\n\n"
            "What the node pays for N ring operators run as containers (`pods-client-go`: a Pod each) "
            "and as one host Pod (`pod-wasm-*`), medians of repeated runs; every setting, the "
            "spread and the method are in [benchmarks/pods.md](benchmarks/pods.md).\n\n"
            + "\n".join(report_pods.summary_lines(data)) + "\n\nThe prototype's published figures "
            "(not measured here): " + "; ".join(f'{who}: "{what}"' for who, what in report_pods.PROTOTYPE) + ".")


def settings_table(rows):
    """The settings each result records (run.py's run_settings), one line per (N, setup)."""
    lines = ["| N | setup | runs | swap | idle before swap-out | prediction | modules | client QPS / burst | commit | machine |",
             "|---:|---|---:|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["n"], ORDER.index(r["setup"]) if r["setup"] in ORDER else 99)):
        s = r.get("settings")
        if not s:
            lines.append(f"| {r['n']} | {r['setup']} | {r.get('runs', 1)} | not recorded (run before results recorded their settings) "
                         f"| | | {'identical' if r.get('identical_modules') else 'distinct'} | | | |")
            continue
        idle = "-" if s["swap_idle_ms"] is None else (
            f"{s['swap_idle_ms']} ms" if isinstance(s["swap_idle_ms"], int) else str(s["swap_idle_ms"]))
        if s.get("swap_settings") == "the host's defaults":
            idle += " (host default)"
        qps = "each one's default" if s["client_qps"] == "default" else (
            "no limiter" if float(s["client_qps"]) < 0 else f"{s['client_qps']} / {s['client_burst']}")
        lines.append(f"| {r['n']} | {r['setup']} | {r.get('runs', 1)} | {s['swap'] or '-'} | {idle} | {s['swap_predict'] or '-'} | "
                     f"{'identical' if s['identical_modules'] else 'distinct'} | {qps} | {s['commit']} | {s.get('machine', 'not recorded')} |")
    return "\n".join(lines)


def machines_line(rows, current):
    """The machine the runs ran on; rows re-run piecemeal may come from different VMs, and a
    comparison across them is no comparison: then each row's machine is in the settings table."""
    machines = sorted({r["settings"]["machine"] for r in rows if r.get("settings", {}).get("machine")})
    if len(machines) <= 1:
        return machines[0] if machines else current
    return ("the rows come from more than one machine (" + "; ".join(machines) + "): compare only rows "
            "of the same machine, named per row in the settings table")


def write(root, context):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import summary
    rows = load(root)
    if not rows:
        return
    groups = by_n(rows)
    plots = os.path.join(root, "docs", "benchmarks")
    os.makedirs(plots, exist_ok=True)
    plot_memory(os.path.join(plots, "ring-memory.png"), rows)
    plot_latency(os.path.join(plots, "ring-latency.png"), rows)
    tables = "\n\n".join(f"### N = {n}\n\n{table(rs)}\n\n{control_plane_table(rs)}" for n, rs in groups.items())
    runs = sorted({r.get("runs", 1) for r in rows})
    notes = []
    for r in sorted(rows, key=lambda r: (r["n"], r["setup"])):
        notes += [f"- {r['setup']} (N = {r['n']}): {note}" for note in r.get("notes", [])]
        if r.get("host_status"):
            notes.append(f"- {r['setup']} (N = {r['n']}): host status at the end: " +
                         ", ".join(f"{k} {v:,}" for k, v in r["host_status"].items() if isinstance(v, (int, float))))
    expected = EXPECTED
    missing = [f"- N = {n}: " + ", ".join(f"`{s}`" for s in expected if s not in {r['setup'] for r in rs})
               for n, rs in groups.items() if any(s not in {r['setup'] for r in rs} for s in expected)]
    skipped = "\n".join(missing + [f"- `{s}` skipped by the last run: {why}" for s, why in context["skipped"].items()])
    deps = context["deps"]
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "method.md")) as f:
        method = f.read()
    md = f"""# Benchmarks

- [Ring benchmark against client-go](#ring-benchmark) (this page, issue 6)
- [The ring as Pods on a real node, beside the prototype's headline](#the-ring-as-pods-on-a-real-node) (issue 15; [details](benchmarks/pods.md))
- [Kubernetes client and cache](benchmarks/kube.md)
- [Operator runtime](benchmarks/runtime.md)
- [A restore taken apart, beside its floor](benchmarks/restore.md) (page cache hot and cold)
- [Lines of code: the replicator against controller-runtime](benchmarks/linecount.md) (issue 11)
- [Guest memory: address space, maps and bounds checks](benchmarks/vm.md) (issue 17; `make bench-vm`)
- [A fleet where swapping should pay: 1-8 MiB guests replaying recorded traces](benchmarks/fleet.md) (issue 16; `make bench-fleet`)
- [Scale: the ring at N = 100, 1000 and 3000 in one host](benchmarks/scale.md) (issues 16 and 17; `make bench-scale`)

{summary.summary(root, rows)}

{pods_section(root)}

## Ring benchmark

Command: `make bench-ring` (part of `make bench`), i.e. `bench/ring/run.py --build build --n 10,50,100
--setups client-go,client-go-shared,native,combined,controller-runtime-combined,wasm-resident,wasm-swap
--identical-modules`; N = 200 is opt-in (`make bench-ring RING_N=200`). Each run merges its
setups into `bench/results/ring-<N>.json`, and this page is written from all of those files
(`bench/ring/run.py --report-only` rewrites it alone). Every figure in the tables is the median
over the runs of its (setup, N) ({' or '.join(map(str, runs))} runs here; column "runs"), with the spread (min-max)
in brackets when there was more than one run. "Watch sharing: shared" marks the setups that run
every operator in one process: a namespace's watch and its informer cache serve all operators
that read it, over one process's connections; a process per operator opens its own.
Machine: {machines_line(rows, context['machine'])}. Kubernetes {deps.get('WOP_KUBERNETES_VERSION')}, etcd {deps.get('WOP_ETCD_VERSION')},
Wasmtime {deps.get('WOP_WASMTIME_VERSION')}, client-go v0.35.4 built with {go_version()}.

### Targets

{targets(groups)}

### Results

![memory against N](benchmarks/ring-memory.png)

![per-hop latency](benchmarks/ring-latency.png)

{tables}

{marginal(rows)}

{where_memory_goes(groups)}

{host_breakdown(groups)}

### Settings of each result

What each row above ran with, as its result file records it (the host's own defaults are idle
2000 ms before swap-out with prediction on; the harness's are idle 0 with prediction off):

{settings_table(rows)}

Setups not measured:
{skipped or '- none'}

Notes from the runs:
{chr(10).join(notes) or '- none'}

{method}"""
    with open(os.path.join(root, "docs", "benchmarks.md"), "w") as f:
        f.write(md)
    print("wrote docs/benchmarks.md and docs/benchmarks/ring-*.png")
