"""docs/benchmarks/fleet.md and its memory-over-time plot from the fleet benchmark's results
(bench/results/fleet.json, written by bench/fleet/run.py). Every figure in the page comes from
the results; run it alone to rewrite the page:  python3 bench/fleet/report_fleet.py [RESULTS] [OUT_DIR]
"""
import json
import os
import re
import statistics
import sys

CONFIG_ORDER = ("swap-off", "swap-idle", "swap-predict", "swap-settle", "swap-budget", "swap-lru",
                "swap-predict-budget", "swap-settle-budget")
LABELS = {"swap-off": "swap off", "swap-idle": "swap on, no prediction",
          "swap-predict": "swap on with prediction (host defaults)",
          "swap-settle": "swap on, prediction, early swap-out (settle)",
          "swap-budget": "host defaults with the host's memory budget at --budget-mib",
          # Results from before commit 25896e1, when the budget sent out the least recently active.
          "swap-lru": "host defaults with the host's memory budget (least recently active out first)",
          "swap-predict-budget": "host defaults in a memory budget",
          "swap-settle-budget": "early swap-out in a memory budget"}
# The goal of issue 16, item 3: with swap and prediction, host memory at most this share of
# swap-off's, at most this multiple of its p50 wake-up latency.
GOAL_MEMORY_RATIO = 0.25
GOAL_LATENCY_RATIO = 1.1
MIB = 2**20


def settle_is_default(settings):
    """Whether the early swap-out ran as the host's defaults (swap-settle with no flags), as it
    has since it became the default; before, swap-predict did."""
    return settings.get("configs", {}).get("swap-settle") == "(host defaults)"


def defaults_and_other(settings):
    """The config that ran the host's defaults, and the one beside it that differs only in the
    early swap-out."""
    return ("swap-settle", "swap-predict") if settle_is_default(settings) else ("swap-predict", "swap-settle")


def labels_for(settings):
    if not settle_is_default(settings):
        return LABELS
    return dict(LABELS, **{"swap-predict": "swap on with prediction, no early swap-out",
                           "swap-settle": "swap on, prediction, early swap-out (host defaults)",
                           "swap-budget": "prediction without the early swap-out, with the host's memory budget at --budget-mib",
                           "swap-predict-budget": "prediction without the early swap-out in a memory budget",
                           "swap-settle-budget": "host defaults in a memory budget"})


def without_log_path(failure):
    """A failure as the harness printed it, without the folder of logs it kept on that machine."""
    return re.sub(r" \(logs in [^)]*\)$", "", failure)


def appends(settings):
    """The invocations that added runs to the results (one object in results written before
    there could be several)."""
    appended = settings.get("appended") or []
    return appended if isinstance(appended, list) else [appended]


def by_config(runs):
    grouped = {}
    for r in runs:
        grouped.setdefault(r["config"], []).append(r)
    return {c: grouped[c] for c in CONFIG_ORDER if c in grouped}


def median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def spread(runs, key, scale=1.0, digits=1):
    """"median (min-max)" of key over runs, scaled; "-" when missing."""
    return spread_of([r[key] / scale for r in runs if r.get(key) is not None], digits)


def spread_of(values, digits=2):
    """"median (min-max)" of values ("median" alone for one); "-" for none."""
    if not values:
        return "-"
    med = f"{statistics.median(values):,.{digits}f}"
    return med if len(values) == 1 else f"{med} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def plot(result, grouped, path, labels):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colours = {"swap-off": "#C44E52", "swap-idle": "#DD8452", "swap-predict": "#4C72B0", "swap-settle": "#55A868", "swap-budget": "#8172B3", "swap-lru": "#8172B3",
               "swap-predict-budget": "#8172B3", "swap-settle-budget": "#937860"}
    fig, (mem, res) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    n = result["settings"]["n"]
    for config, runs in grouped.items():
        for k, r in enumerate(sorted(runs, key=lambda r: r["repeat"])):
            t0 = r["window_s"][0] - result["settings"]["warmup_s"]  # the replay's start
            ts = [s["t"] - t0 for s in r["timeline"]]
            label = labels[config] if k == 0 else None
            alpha = 1.0 if k == 0 else 0.35
            mem.plot(ts, [s["pss"] / MIB for s in r["timeline"]], color=colours[config], alpha=alpha, label=label)
            res.plot(ts, [(s["resident"] if s["resident"] is not None else float("nan")) for s in r["timeline"]],
                     color=colours[config], alpha=alpha, label=label)
    any_run = next(iter(grouped.values()))[0]
    w0 = result["settings"]["warmup_s"]
    for ax in (mem, res):
        ax.axvspan(w0, w0 + any_run["window_s"][1] - any_run["window_s"][0], color="#eeeeee", zorder=0)
        ax.axvline(0, color="#999999", lw=0.8, ls=":")
    mem.set_ylabel("host PSS (MiB)")
    mem.set_title(f"fleet: N = {n} operators, traces at speed-up {result['settings']['speedup']:g} "
                  f"(shaded: measured window; 0: replay starts)", fontsize=9)
    mem.legend(fontsize=8)
    res.set_ylabel(f"resident operators (of {n})")
    res.set_xlabel("seconds from the start of the replay (before 0: host start and first reconciles)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def ratios(grouped, config):
    """(PSS, anonymous PSS, cgroup usage, p50 wake-up latency) of config as shares of swap-off's
    (medians over runs); None for a figure either side lacks."""
    off, runs = grouped.get("swap-off"), grouped.get(config)
    if not off or not runs:
        return None

    def share(key):
        a, b = median(runs, key), median(off, key)
        return a / b if a is not None and b else None
    return {k: share(key) for k, key in (("pss", "pss_bytes_median"), ("anon", "pss_anon_bytes_median"),
                                          ("cgroup", "cgroup_usage_bytes_median"), ("p50", "wake_latency_ms_p50"))}


def verdict(r):
    met = r["pss"] <= GOAL_MEMORY_RATIO and r["p50"] <= GOAL_LATENCY_RATIO
    text = (f"PSS {r['pss']:.1%} of swap-off's (goal: at most {GOAL_MEMORY_RATIO:.0%}"
            + ("" if r["pss"] <= GOAL_MEMORY_RATIO else f"; over by {(r['pss'] - GOAL_MEMORY_RATIO) * 100:.1f} percentage points")
            + f") at {r['p50']:.2f}x its p50 wake-up latency (goal: at most {GOAL_LATENCY_RATIO:g}x"
            + ("" if r["p50"] <= GOAL_LATENCY_RATIO else f"; over by {r['p50'] - GOAL_LATENCY_RATIO:.2f}x") + ")"
            + f"; anonymous PSS {r['anon']:.1%}" + (f", cgroup usage {r['cgroup']:.1%}" if r["cgroup"] else ""))
    return met, text


def goal_sentence(grouped, settings, labels):
    settle_default = settle_is_default(settings)
    defaults, alternative = defaults_and_other(settings)
    pred = ratios(grouped, defaults)
    if not pred or pred["pss"] is None or pred["p50"] is None:
        return f"The goal cannot be judged: swap-off and {defaults} were not both measured."
    met, text = verdict(pred)
    what = "swap on, prediction on, early swap-out" if settle_default else "swap on, prediction on"
    parts = [f"**Goal {'met' if met else 'missed'}** at the host's defaults ({what}): {text}."]
    idle = ratios(grouped, "swap-idle")
    if idle:
        parts.append(f"Without prediction: {verdict(idle)[1]}.")
    other = ratios(grouped, alternative)
    if other:
        met_other, text = verdict(other)
        name = ("Without the early swap-out (`--swap-settle-ms 0`, the idle timer alone)" if settle_default
                else "With the early swap-out (`--swap-settle-ms`)")
        parts.append(f"{name}, the goal is {'met' if met_other else 'missed'}: {text}.")
    for config in ("swap-budget", "swap-lru", "swap-predict-budget", "swap-settle-budget"):
        r = ratios(grouped, config)
        if r and r["pss"] is not None:
            met_b, text = verdict(r)
            parts.append(f"{labels[config].capitalize()}: goal {'met' if met_b else 'missed'}, {text}.")
    return " ".join(parts)


def budget_paragraph(grouped, settings, failed, labels):
    budgeted = {c: grouped[c] for c in ("swap-predict-budget", "swap-settle-budget") if c in grouped}
    failures = [f for f in failed if f.split(":")[0] in ("swap-predict-budget", "swap-settle-budget")]
    off = grouped.get("swap-off")
    if not (budgeted or failures) or not off:
        return ""
    budget = settings.get("budget_mib")
    text = (f"**Memory budget.** Without a limit the run cgroup's usage is higher with swap on than off: the "
            f"snapshots written at each swap-out stay in the page cache, charged to the cgroup of the host that "
            f"wrote them (reclaimable, but counted). The -budget configs run the same hosts in a cgroup limited to "
            f"{budget} MiB ({budget * MIB / median(off, 'pss_bytes_median'):.1%} of swap-off's PSS, "
            f"{budget * MIB / median(off, 'cgroup_usage_bytes_median'):.1%} of its cgroup usage), where the kernel must "
            f"reclaim that page cache or kill: ")
    parts = [f"**{without_log_path(f)}**" for f in failures]
    if failures:
        parts.append("every operator starts resident and is swapped out only after it has been idle, so the fleet's "
                     "start needs all of its memory at once; a budget below that needs a policy that evicts to the "
                     "budget" + (
                         ": the host's own budget (`swap-budget`, `swap-lru` above) is that policy"
                         if {"swap-budget", "swap-lru"} & set(grouped) else ", which these runs did not have"))
    for config, runs in budgeted.items():
        limits = [r["memory_budget"] for r in runs if r.get("memory_budget")]
        parts.append(f"{labels[config]}: cgroup usage {median(runs, 'cgroup_usage_bytes_median') / MIB:.1f} MiB, "
                     f"the limit hit {sum(x['failcnt'] for x in limits)} times and {sum(x['oom_kills'] for x in limits)} "
                     f"OOM kill(s) over {len(runs)} run(s), wake-up p50 {median(runs, 'wake_latency_ms_p50'):.2f} ms and "
                     f"p99 {median(runs, 'wake_latency_ms_p99'):.2f} ms, {sum(r['lost_changes'] for r in runs)} changes lost")
    return text + "; ".join(parts) + "."


def policy_paragraph(grouped, settings):
    """Why the idle timer holds memory here, from the runs: resident fractions, what the early
    swap-out costs in swap cycles and CPU, and where the PSS that is not anonymous goes."""
    idle, pred, settle, off = (grouped.get(c) for c in ("swap-idle", "swap-predict", "swap-settle", "swap-off"))
    if not (idle and pred and settle and off):
        return ""
    window = median(off, "window_seconds")

    def per_minute(runs, key):
        return median(runs, key) / median(runs, "window_seconds") * 60

    def file_mib(runs):
        return (median(runs, "pss_bytes_median") - median(runs, "pss_anon_bytes_median")) / MIB
    settle_default = settle_is_default(settings)
    pred_name = "the idle timer with prediction" + ("" if settle_default else " (the host's defaults)")
    settle_name = "the early swap-out" + (" (the host's defaults)" if settle_default else "")
    return (
        f"**Why the idle timer is the wrong policy here.** After every wake an operator stays resident for the "
        f"idle period ({settings['host_idle_ms_default']}) whether or not its next wake is near: over the "
        f"{window:.0f} s window the operators were resident {median(idle, 'resident_fraction'):.1%} of the time "
        f"without prediction and {median(pred, 'resident_fraction'):.1%} with {pred_name} (prediction only adds "
        f"prefetches and keeps frequently woken operators resident). {settle_name[0].upper() + settle_name[1:]} "
        f"swaps a confidently predicted operator out once it has settled and lets the prefetch bring it back: "
        f"resident {median(settle, 'resident_fraction'):.1%} of the time, for {per_minute(settle, 'swap_outs'):.0f} "
        f"swap-outs a minute instead of {per_minute(pred, 'swap_outs'):.0f}, "
        f"{median(settle, 'found_resident_fraction'):.1%} of changes finding the operator resident (idle timer with "
        f"prediction: {median(pred, 'found_resident_fraction'):.1%}), and host CPU "
        f"{median(settle, 'cpu_utilisation'):.1%} of a core instead of {median(pred, 'cpu_utilisation'):.1%} "
        f"(swap off: {median(off, 'cpu_utilisation'):.1%}). PSS that is not anonymous (the binary, compiled code, "
        f"and the snapshot pages restored guests map) is {file_mib(off):.1f} MiB with swap off, "
        f"{file_mib(idle):.1f} without prediction, {file_mib(pred):.1f} with {pred_name} and "
        f"{file_mib(settle):.1f} with {settle_name}. A restored guest maps its snapshot from the page cache, and a "
        f"read fault maps page-cache pages around the page read (fault-around, large folios), so a few reads of an "
        f"index can map much more of it than they touch (an explanation, not measured by this benchmark).")


def host_values(runs, kind, field):
    """field ("p50_ms", "p99_ms", "count") of the host's own part of wake-ups of kind, per run
    that recorded it (hosts before the status file's wakeLatency did not)."""
    return [r["host_wake_ms"][kind][field] for r in runs
            if r.get("host_wake_ms") and r["host_wake_ms"][kind][field] is not None]


def host_part_table(grouped, labels):
    if not any(host_values(runs, "all", "p50_ms") for runs in grouped.values()):
        return ""
    rows = ["| config | host's part p50 ms | p99 | resident: p50 (wakes) | prefetched: p50 (wakes) "
            "| restored on the change: p50 (wakes) | end-to-end p50 |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for config, runs in grouped.items():
        cells = [f"{spread_of(host_values(runs, k, 'p50_ms'))} ({spread_of(host_values(runs, k, 'count'), 0)})"
                 for k in ("resident", "prefetched", "restored")]
        rows.append(f"| {labels[config]} | {spread_of(host_values(runs, 'all', 'p50_ms'))} "
                    f"| {spread_of(host_values(runs, 'all', 'p99_ms'))} | " + " | ".join(cells)
                    + f" | {spread(runs, 'wake_latency_ms_p50', digits=2)} |")
    return "\n".join(rows)


def host_part(grouped, settings):
    """(the host's part of a wake-up at p50 at the defaults, the same with swap off, swap-off's
    end-to-end p50 per run), medians over runs; None unless both configs recorded it."""
    defaults, _ = defaults_and_other(settings)
    off, ours = grouped.get("swap-off"), grouped.get(defaults)
    if not off or not ours or not host_values(off, "all", "p50_ms") or not host_values(ours, "all", "p50_ms"):
        return None
    e2e_off = [r["wake_latency_ms_p50"] for r in off if r.get("host_wake_ms") and r["wake_latency_ms_p50"] is not None]
    if not e2e_off:
        return None
    return (statistics.median(host_values(ours, "all", "p50_ms")),
            statistics.median(host_values(off, "all", "p50_ms")), e2e_off)


def host_part_paragraph(grouped, settings, labels):
    """What the host itself adds to a wake-up at the defaults, against the end-to-end figure and
    its spread, from the runs that recorded it."""
    figures = host_part(grouped, settings)
    if not figures:
        return ""
    host_ours, host_off, e2e_off = figures
    ours = grouped[defaults_and_other(settings)[0]]
    # Runs since own_part.py start at the host's first status write in the window; earlier ones
    # read the status at the window's start, which could hold up to a second of warm-up.
    exact = all((r.get("host_wake_ms") or {}).get("source") for r in ours if r.get("host_wake_ms"))
    window = ("which it rewrites about once a second: the wake-ups reconciled from its first write in the window "
              "to the end of the settle, `bench/ring/own_part.py`" if exact else
              "read about once a second, every wake-up reconciled in the window")
    kinds = ", ".join(f"{name} {statistics.median(host_values(ours, kind, 'p50_ms')):.2f} ms"
                      for kind, name in (("resident", "resident"), ("prefetched", "prefetched"),
                                         ("restored", "restored on the change"))
                      if host_values(ours, kind, "p50_ms"))
    return (f"**The host's own part of a wake-up** (from the informer event in the host to the return of the "
            f"reconcile entry it woke, which has issued the guest's write; the host's status file, {window}): at the p50 "
            f"{host_ours:.2f} ms at the host's defaults against {host_off:.2f} ms with swap off, "
            f"{host_ours - host_off:+.2f} ms, which is {(host_ours - host_off) / statistics.median(e2e_off):.1%} of "
            f"swap-off's end-to-end p50. By how the change found its operator, at the defaults: {kinds}. The rest "
            f"of a wake-up is mostly the API server's (the driver's write, its watch delivery to the host, the "
            f"guest's write and its delivery to the driver; the host's sending of that write is not in the host's "
            f"part), whose share moves from run to run: swap-off's end-to-end p50 "
            f"ranged {min(e2e_off):.2f}-{max(e2e_off):.2f} ms over its {len(e2e_off)} runs.")


def table(grouped, n, labels):
    rows = ["| config | PSS MiB | anon PSS MiB | cgroup MiB | resident fraction | resident operators | "
            "wake-up ms p50 | p99 | host CPU s (share of a core) | swap-outs | restores (prefetches) | "
            "changes found resident | lost | runs |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for config, runs in grouped.items():
        cpu = f"{spread(runs, 'cpu_seconds', digits=2)} ({median(runs, 'cpu_utilisation'):.1%})"
        rows.append(
            f"| {labels[config]} | {spread(runs, 'pss_bytes_median', MIB)} | {spread(runs, 'pss_anon_bytes_median', MIB)} "
            f"| {spread(runs, 'cgroup_usage_bytes_median', MIB)} | {spread(runs, 'resident_fraction', digits=3)} "
            f"| {spread(runs, 'resident_operators_median', digits=0)} of {n} "
            f"| {spread(runs, 'wake_latency_ms_p50', digits=2)} | {spread(runs, 'wake_latency_ms_p99', digits=2)} "
            f"| {cpu} | {spread(runs, 'swap_outs', digits=0)} | {spread(runs, 'restores', digits=0)} "
            f"({spread(runs, 'prefetches', digits=0)}) | {spread(runs, 'found_resident_fraction', digits=3)} "
            f"| {sum(r['lost_changes'] for r in runs)} | {len(runs)} |")
    return "\n".join(rows)


def fleet_summary(result):
    fleet = result["fleet"]
    sizes = [op["index_kib"] / 1024 for op in fleet]
    counts = {}
    for op in fleet:
        counts[op["trace"]] = counts.get(op["trace"], 0) + 1
    events = sum(len(op["events_s"]) for op in fleet)
    s = result["settings"]
    horizon = s["warmup_s"] + s["duration_s"]
    return (f"{len(fleet)} operators; index sizes drawn {s['size_distribution']} with seed {s['seed']}: "
            f"{sum(sizes):,.1f} MiB in all, median {statistics.median(sizes):.2f} MiB, "
            f"{min(sizes):.2f}-{max(sizes):.2f} MiB. Traces drawn with weights "
            + ", ".join(f"{k} {v:g}" for k, v in s["traces"].items()) + ": "
            + ", ".join(f"{counts.get(k, 0)} on {k}" for k in s["traces"])
            + f"; {events} events in the {horizon:g} s of replay.")


def write(result, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    s = result["settings"]
    grouped = by_config(result["runs"])
    labels = labels_for(s)
    png = os.path.join(out_dir, "fleet-memory.png")
    lines = ["# Fleet: a workload where swapping should pay", "",
             f"Generated by `{s['command']}` (bench/fleet/run.py; results in bench/results/fleet.json) "
             f"at commit {s['commit']} on {s['machine']}. Every figure below comes from that file."
             + "".join(f" The runs of {', '.join(a['configs_run'])} were added by `{a['command']}` at "
                       f"commit {a['commit']}." for a in appends(s)), ""]
    if not grouped:
        lines += ["No run finished: " + "; ".join(result.get("failed", [])), ""]
    else:
        lines += [f"**Conditions:** {fleet_summary(result)} Trace gaps divided by {s['speedup']:g}; each operator "
                  f"starts at a random phase of its trace. One host, {s['host_workers']} workers; swap configs: "
                  + "; ".join(f"{labels[c]}: `{v}`" for c, v in s["configs"].items())
                  + f" (the host's default idle period is {s['host_idle_ms_default']}, prediction "
                  f"{s['host_predict_default']}). Measured over {s['duration_s']:g} s after {s['warmup_s']:g} s of "
                  f"replay; {s['repeats']} run(s) per config in a shuffled order; control plane: {s['control_plane']}. "
                  "Figures are medians over runs (min-max in brackets) of each run's median over its window.", "",
                  goal_sentence(grouped, s, labels), "",
                  table(grouped, s["n"], labels), "",
                  host_part_paragraph(grouped, s, labels), "",
                  host_part_table(grouped, labels), "",
                  f"![memory over time]({os.path.basename(png)})", "",
                  policy_paragraph(grouped, s), "",
                  budget_paragraph(grouped, s, result.get("failed", []), labels), "",
                  "Wake-up latency: from just before the driver's PATCH of an operator's ConfigMap label to the "
                  "driver's watch seeing the guest's annotation for it (two API server writes and watch deliveries "
                  "included, so it is the latency a user sees, not the host's alone). Resident fraction: the "
                  "operators' resident seconds over the window (host status file) divided by N times the window. "
                  "Memory: the host process's total PSS, anonymous PSS (its own pages, without mapped files), and "
                  "the usage of a memory cgroup made for the run (anonymous memory and page cache charged to it), "
                  "as the ring benchmark measures them (bench/ring/probe.py).", ""]
        loads = [r["load_before"][0] for r in result["runs"]]
        lines += [f"Load (1 min) before the runs: {min(loads):.2f}-{max(loads):.2f}.", ""]
        plot(result, grouped, png, labels)
    if result.get("failed"):
        lines += ["Failed runs:", ""] + [f"- {without_log_path(f)}" for f in result["failed"]] + [""]
    lines += ["## Settings", "", "```json", json.dumps(s, indent=1), "```", ""]
    path = os.path.join(out_dir, "fleet.md")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    results = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "bench", "results", "fleet.json")
    with open(results) as f:
        data = json.load(f)
    print(write(data, sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "docs", "benchmarks")))
