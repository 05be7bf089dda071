"""The short summary that opens docs/benchmarks.md: what wins, by how much, under which
settings, and where we lose. Every figure is read from bench/results/*.json (the ring rows as
report_ring aggregates them, restore.json, fleet.json, vm.json); a result file that is missing
gives a line saying so, never a typed-in number.
"""
import json
import os
import statistics
import sys

from report import P99_GOAL_RATIO, one_machine, ratio_against_goal

MIB = 2**20


def _load(root, name):
    try:
        with open(os.path.join(root, "bench", "results", name)) as f:
            return json.load(f)
    except OSError:
        return None


def _ring_lines(rows):
    """Memory and latency of the ring at the smallest N measured with the repeated-runs harness."""
    repeated = sorted({r["n"] for r in rows if r.get("runs", 1) > 1})
    if not repeated:
        return ["- Ring: no (setup, N) has repeated runs yet (`make bench-ring`)."]
    n = repeated[0]
    at = {r["setup"]: r for r in rows if r["n"] == n}
    need = ("client-go", "controller-runtime-combined", "wasm-swap", "wasm-swap-defaults")
    if any(s not in at for s in need):
        return [f"- Ring (N = {n}): not every setup of the summary was measured ({', '.join(need)})."]
    go, crc, swap, defaults = (at[s] for s in need)
    if not one_machine([go], [crc], [swap], [defaults]):
        return [f"- Ring (N = {n}): not compared, the setups of the summary ({', '.join(need)}) ran on "
                f"different machines (re-run them: `bench/ring/run.py --build build --n {n}`)."] \
            + _defaults_against_client_go(rows, n)
    pss = lambda r: r["pss_steady_bytes"] / MIB  # noqa: E731
    swap_set = lambda r: f"idle {r['settings']['swap_idle_ms']}, prediction {r['settings']['swap_predict']}"  # noqa: E731
    lines = [
        f"- **Memory, ring at N = {n}** ({swap['runs']} runs each, medians, total PSS of the setup's processes): "
        f"wasm-swap ({swap_set(swap)}) {pss(swap):.1f} MiB against {pss(go):.1f} MiB for client-go "
        f"(one process per operator, {pss(go) / pss(swap):.1f}x more) and {pss(crc):.1f} MiB for one "
        f"controller-runtime process running all {n} controllers ({pss(crc) / pss(swap):.1f}x more); at the "
        f"host's default swap settings ({swap_set(defaults)}) {pss(defaults):.1f} MiB."]
    swaps = (defaults.get("host_status") or {}).get("restores")
    lines.append(
        f"- **Latency, same run:** at the host's defaults the hop p50 is {defaults['hop_latency_ms_p50']:.2f} ms "
        f"against client-go's {go['hop_latency_ms_p50']:.2f} ms ({defaults['hop_latency_ms_p50'] / go['hop_latency_ms_p50']:.2f}x), "
        f"p99 {defaults['hop_latency_ms_p99']:.2f} against {go['hop_latency_ms_p99']:.2f} ms"
        + (f", but only {swaps:,} restores happened during the laps (no operator idles that long in the ring)"
           if swaps is not None else "") + ". "
        f"**Where we lose:** swapping on every hop ({swap_set(swap)}) costs p50 {swap['hop_latency_ms_p50']:.2f} ms "
        f"({swap['hop_latency_ms_p50'] / go['hop_latency_ms_p50']:.2f}x client-go's) and "
        f"{swap['cpu_measured_seconds'] / go['cpu_measured_seconds']:.1f}x its CPU over the measured laps.")
    return lines + _defaults_against_client_go(rows, n)


def _defaults_against_client_go(rows, smallest):
    """Issue 16 item 4 at the largest N where client-go and the host defaults ran in one
    invocation (one shuffle seed: same machine, commit and hour), when that is not the smallest
    N, whose line above already says it: the N where restores happen."""
    def invocation(r):
        return (r.get("settings") or {}).get("shuffle_seed")
    for n in sorted({r["n"] for r in rows if r.get("runs", 1) > 1}, reverse=True):
        at = {r["setup"]: r for r in rows if r["n"] == n}
        go, defaults = at.get("client-go"), at.get("wasm-swap-defaults")
        if n == smallest or not go or not defaults or invocation(go) is None or invocation(go) != invocation(defaults):
            continue
        status = defaults.get("host_status") or {}
        ratio = lambda key: defaults[key] / go[key]  # noqa: E731

        def verdict(key):
            """On the medians; and whether the two setups' ranges over their runs overlap, which
            makes either verdict one the noise between runs could turn."""
            met = "met" if ratio(key) <= 1.0 else "missed"
            ours, theirs = defaults.get("spread", {}).get(key), go.get("spread", {}).get(key)
            if ours and theirs and ours[0] <= theirs[1] and theirs[0] <= ours[1]:
                return f"{met} on the medians, the runs' ranges overlap"
            return met

        def figure(row, key):
            low, high = row.get("spread", {}).get(key, (None, None))
            return f"{row[key]:.2f}" + (f" ({low:.2f}-{high:.2f})" if low is not None and row["runs"] > 1 else "")
        return [
            f"- **Latency and CPU where restores happen, ring at N = {n}** (client-go and the host defaults in one "
            f"invocation, {defaults['runs']} shuffled runs each, medians (min-max), commit "
            f"{defaults['settings']['commit']}): hop p50 {figure(defaults, 'hop_latency_ms_p50')} ms against "
            f"client-go's {figure(go, 'hop_latency_ms_p50')} ms ({ratio('hop_latency_ms_p50'):.2f}x, target 1.0x: "
            f"{verdict('hop_latency_ms_p50')}), p99 {figure(defaults, 'hop_latency_ms_p99')} against "
            f"{figure(go, 'hop_latency_ms_p99')} ms ({ratio('hop_latency_ms_p99'):.2f}x: "
            f"{verdict('hop_latency_ms_p99')}), CPU over the measured laps "
            f"{figure(defaults, 'cpu_measured_seconds')} against {figure(go, 'cpu_measured_seconds')} s "
            f"({ratio('cpu_measured_seconds'):.2f}x: {verdict('cpu_measured_seconds')}); "
            + (f"{status['restores']:,} restores in {status['reconciles']:,} reconciles (host status of the run with the median PSS), "
               if "restores" in status and "reconciles" in status else "")
            + f"memory budget {defaults['settings'].get('swap_memory_budget_mib')} MiB, PSS "
            f"{defaults['pss_steady_bytes'] / MIB:.1f} MiB." + _own_part_clause(defaults, go, figure)]
    return []


def _own_part_clause(defaults, go, figure):
    """Where the hop's time goes: each setup's own part (bench/ring/own_part.py) against the rest."""
    if defaults.get("own_part_ms_p50") is None or go.get("own_part_ms_p50") is None:
        return ""
    rest = lambda row: row["hop_latency_ms_p50"] - row["own_part_ms_p50"]  # noqa: E731
    started = defaults.get("own_part_started_ms_p50")
    return (f" Each setup's own part of a hop (event in its process to the reconcile issuing the write), p50: "
            f"{figure(defaults, 'own_part_ms_p50')} ms for the host"
            + (f" ({started:.2f} ms of it before the reconcile entry began)" if started is not None else "")
            + f" against {figure(go, 'own_part_ms_p50')} ms "
            f"for client-go; the hop p50 less it (the API server's and etcd's part) {rest(defaults):.2f} against "
            f"{rest(go):.2f} ms.")


def _restore_lines(root, restore):
    if not restore:
        return ["- Restore: not measured (`make bench-restore`)."]
    sys.path.insert(0, os.path.join(root, "bench", "swap"))
    import restore as restore_bench
    rows = {(r["mib"], r["cache"]): r for r in restore["rows"]}
    sizes = restore["settings"]["sizes_mib"]
    footing = restore_bench.prototype_footing(restore)
    hot_map = " / ".join(f"{rows[(m, 'hot')]['map']['ours_ms']['median']:.2f}" for m in sizes)
    cold_all = " / ".join(f"{ours:.1f}" for _, ours, _ in footing)
    vs = " / ".join(f"{theirs[1] / ours:.1f}x" for _, ours, theirs in footing)
    mibs = " / ".join(str(m) for m in sizes)
    operator = ""
    if all(rows[(m, c)].get("map_reconcile") for m in sizes for c in ("hot", "cold")):
        first = lambda cache: " / ".join(  # noqa: E731
            f"{rows[(m, cache)]['map_reconcile']['ours_ms']['median']:.2f}" for m in sizes)
        resident = max(rows[(m, "hot")]["map_reconcile"]["resident_ms"]["median"] for m in sizes)
        operator = (f"; a real operator (the fleet operator, index of that size) restored and entered for its first "
                    f"reconcile returns after {first('hot')} ms hot and {first('cold')} ms cold, against at most "
                    f"{resident:.2f} ms for the same reconcile resident")
    return [f"- **Restore** (snapshot of {mibs} MiB, layers not yet checked, as after a swap-out): mapping it back "
            f"takes {hot_map} ms with the page cache hot{operator}; "
            f"with every page back and written, page cache dropped (the research prototype's footing: it "
            f"copied all memory back), {cold_all} ms, i.e. {vs} faster than its published figures, not orders "
            f"of magnitude ([details](benchmarks/restore.md))."]


def _host_part_sentence(part):
    """part: report_fleet.host_part's (defaults, swap off, swap-off's end-to-end p50s) or None."""
    if not part:
        return ""
    ours, off, e2e_off = part
    return (f"The host's own part of a wake-up (event in the host to the return of the reconcile entry that issued the guest's write) is "
            f"{ours:.2f} ms at the p50 at the defaults against {off:.2f} ms with swap off ({ours - off:+.2f} ms); "
            f"the rest is the control plane's, and swap-off's end-to-end p50 ranged "
            f"{min(e2e_off):.2f}-{max(e2e_off):.2f} ms over its runs. ")


def _fleet_lines(root, fleet):
    if not fleet:
        return ["- Fleet: not measured (`make bench-fleet`)."]
    sys.path.insert(0, os.path.join(root, "bench", "fleet"))
    import report_fleet
    grouped = report_fleet.by_config(fleet["runs"])
    lines = []
    settle_default = report_fleet.settle_is_default(fleet["settings"])
    defaults_config, other_config = report_fleet.defaults_and_other(fleet["settings"])
    defaults, other = report_fleet.ratios(grouped, defaults_config), report_fleet.ratios(grouped, other_config)
    other_flag = fleet["settings"]["configs"][other_config]
    budgeted = report_fleet.ratios(grouped, "swap-budget") or report_fleet.ratios(grouped, "swap-lru")
    n = fleet["settings"]["n"]
    if defaults:
        met = defaults["pss"] <= report_fleet.GOAL_MEMORY_RATIO and defaults["p50"] <= report_fleet.GOAL_LATENCY_RATIO
        lines.append(
            f"- **Fleet** ({n} operators holding in-memory indexes of sizes {fleet['settings']['size_distribution']}, "
            f"replaying recorded traces): at the host's defaults"
            + (" (the early swap-out of a confidently predicted operator included)" if settle_default else "")
            + " the host "
            f"holds {defaults['pss']:.0%} of swap-off's PSS at {defaults['p50']:.2f}x its p50 wake-up latency "
            f"(goal {report_fleet.GOAL_MEMORY_RATIO:.0%} at {report_fleet.GOAL_LATENCY_RATIO:g}x: {'met' if met else 'missed'})"
            + (f"; {'without' if settle_default else 'with'} the early swap-out (`{other_flag}`, not the default) "
               f"{other['pss']:.0%} at {other['p50']:.2f}x" if other else "")
            + (f"; with the host's memory budget (`--swap-memory-budget-mib {fleet['settings']['host_budget_mib']}`, "
               f"not the default) {budgeted['pss']:.0%} at {budgeted['p50']:.2f}x" if budgeted and budgeted["pss"] is not None else "")
            + ". "
            + _host_part_sentence(report_fleet.host_part(grouped, fleet["settings"]))
            + f"**Where we lose:** with swap on, the cgroup's usage (page cache included) is "
            f"{defaults['cgroup']:.0%} of swap-off's, since the snapshots written stay in the page cache "
            f"([details](benchmarks/fleet.md)).")
    return lines or ["- Fleet: swap-off or the host defaults were not measured."]


def _vm_lines(root, vm):
    if not vm:
        return []
    sys.path.insert(0, os.path.join(root, "bench", "vm"))
    import report_vm
    _, medians, names = report_vm.bounds_summary(vm)
    default = next((k for k, e in names.items() if not e["explicit_bounds_checks"]), None)
    checked = next((k for k, e in names.items() if e["explicit_bounds_checks"]), None)
    if not default or not checked:
        return []
    clear = lambda s: min(s[checked]) > max(s[default]) or max(s[checked]) < min(s[default])  # noqa: E731
    costs = ", ".join(
        f"{w} {statistics.median(s[checked]) / statistics.median(s[default]) - 1:+.0%}"
        + ("" if clear(s) else " (within the spread of repeated processes)")
        for w, s in medians.items() if default in s and checked in s)
    return [f"- **Guest memory layout:** the host keeps Wasmtime's default (guard pages, no bounds checks); a "
            f"smaller reservation ({checked}) costs CPU in explicit bounds checks: {costs} "
            f"([details](benchmarks/vm.md))."]


def _scale_lines(scale):
    """N = 1000 in one host at the defaults and at idle 0 (bench/scale, issues 16 and 17)."""
    if not scale or not scale.get("runs"):
        return []
    by = {}
    for r in scale["runs"]:
        by.setdefault((r["setup"], r["n"]), []).append(r)
    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    parts = []
    for setup, label in (("wasm-swap-defaults", "host defaults"), ("wasm-swap", "idle 0"),
                         ("wasm-swap-budget", "defaults with the harness's memory budget")):
        rs = by.get((setup, 1000))
        if rs:
            budget = rs[0]["settings"].get("swap_memory_budget_mib")
            parts.append(f"{label}{f' (memory budget {budget} MiB)' if budget else ''}: {med(rs, 'pss_steady_bytes') / 2**20:,.0f} MiB "
                         f"PSS, hop p99 {med(rs, 'hop_latency_ms_p99'):.1f} ms, ready in {med(rs, 'ready_s'):.1f} s (warm cache)")
    if not parts:
        return []
    cold = _cold_starts(by, 1000)
    return [f"- **Scale, N = 1,000 ring operators in one host** (distinct modules): " + "; ".join(parts)
            + (f"; a cold artifact cache costs {statistics.median(cold):.0f} s to ready" if cold else "")
            + _p99_goal_clause(by) + _watch_sharing_clause(by)
            + " ([details](benchmarks/scale.md))."] + _ten_thousand_line(by)


def _cold_starts(by, n):
    """The cold starts at N = n on the defaults' machine: an invocation's first run pays it,
    whichever setup that was, and rows of other setups may come from another machine."""
    defaults = by.get(("wasm-swap-defaults", n), [])
    return [r["cold_ready_s"] for (_, at), runs in by.items() if at == n for r in runs
            if r.get("cold_ready_s") and (not defaults or one_machine(runs, defaults))]


def _p99_goal_clause(by):
    """Issue 16 item 5 / issue 17: hop p99 at N = 1,000 against N = 100 at the host's defaults."""
    small, big = by.get(("wasm-swap-defaults", 100)), by.get(("wasm-swap-defaults", 1000))
    if not small or not big:
        return ""
    if not one_machine(small, big):
        return "; hop p99 at N = 1,000 against N = 100 at the defaults: not compared, the two ran on different machines"
    ratio, low, high, verdict = ratio_against_goal([r["hop_latency_ms_p99"] for r in big],
                                                   [r["hop_latency_ms_p99"] for r in small], P99_GOAL_RATIO)
    return (f"; at the defaults hop p99 at N = 1,000 is {ratio:.2f}x N = 100's ({low:.2f}-{high:.2f}x over the "
            f"pairings of runs; goal {P99_GOAL_RATIO}x: {verdict})")


def _ten_thousand_line(by):
    """N = 10,000 at the host's defaults, when bench-scale ran it (opt-in)."""
    rs = by.get(("wasm-swap-defaults", 10000))
    if not rs:
        return []
    med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
    cold = _cold_starts(by, 10000)
    return [f"- **N = 10,000** at the host defaults ({len(rs)} run{'s' if len(rs) > 1 else ''}, "
            f"{rs[0]['cycles_measured']} measured cycles, every nonce arrived): {med('pss_steady_bytes') / 2**20:,.0f} MiB "
            f"PSS, hop p50 {med('hop_latency_ms_p50'):.1f} ms / p99 {med('hop_latency_ms_p99'):.1f} ms, ready in "
            f"{med('ready_s'):.1f} s with a warm artifact cache"
            + (f" ({statistics.median(cold):,.0f} s cold: compiling every module on this machine)" if cold else "")
            + "."]


def _watch_sharing_clause(by):
    """The API server's cost with the defaults' cluster-wide watch against one watch per namespace."""
    wide, each = by.get(("wasm-swap-defaults", 1000)), by.get(("wasm-swap-ns-watches", 1000))
    if not wide or not each:
        return ""
    if not one_machine(wide, each):
        return ("; the API server's cost with one cluster-wide watch against one watch per namespace is not "
                "compared: the two ran on different machines")
    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    return (f"; the API server over the measured cycles used {med(wide, 'apiserver_cpu_measured_seconds'):.1f} s of CPU "
            f"with the defaults' one cluster-wide watch against {med(each, 'apiserver_cpu_measured_seconds'):.1f} s "
            f"with one watch per namespace (PSS {med(wide, 'apiserver_pss_steady_bytes') / 2**20:,.0f} against "
            f"{med(each, 'apiserver_pss_steady_bytes') / 2**20:,.0f} MiB)")


def _budget_caveat(ring_rows, fleet):
    """Runs of the host's defaults that predate its default memory budget ran without one."""
    stale = []
    defaults = [r for r in ring_rows if r["setup"] == "wasm-swap-defaults"]
    if defaults and all(not r.get("settings", {}).get("swap_memory_budget_mib") for r in defaults):
        stale.append("the ring's `wasm-swap-defaults` rows (commit "
                     + ", ".join(sorted({str(r.get("settings", {}).get("commit")) for r in defaults})) + ")")
    if fleet and "host_budget_default_mib" not in fleet.get("settings", {}):
        stale.append(f"the fleet's host-defaults configs (commit {fleet['settings'].get('commit')})")
    if not stale:
        return []
    return ["- **Older defaults:** " + " and ".join(stale) + " ran before `wasm-operator run` had a memory "
            "budget by default, so they ran without one (the fleet's `swap-budget` rows show a budget's effect); "
            "bench-scale's defaults ran with it. `make bench-ring` / `make bench-fleet` re-measure them."]


def summary(root, ring_rows):
    lines = (_ring_lines(ring_rows) + _restore_lines(root, _load(root, "restore.json")) +
             _fleet_lines(root, _load(root, "fleet.json")) + _scale_lines(_load(root, "scale.json")) +
             _vm_lines(root, _load(root, "vm.json")) + _budget_caveat(ring_rows, _load(root, "fleet.json")))
    return "## Summary\n\nGenerated from the result files; conditions are in each line and in the sections below.\n\n" + "\n".join(lines)
