#!/usr/bin/env python3
"""Runs the swap benchmark and writes bench/results/swap.json and docs/benchmarks/swap.md (with
plots). Snapshot timings need no control plane; latency, host memory and the live trace replay run
against one. The replay writes bench/results/replay_live.json and the "Live replay" table of
docs/prediction.md.

  bench/swap/run.py --build BUILD_DIR [--quick] [--only replay]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import control_plane, machine_summary, read_deps  # noqa: E402
from swap_report import write_report  # noqa: E402

SIZES = [1, 2, 5, 10, 25, 50, 87]
TRACES = os.path.join(ROOT, "bench", "traces")  # the repository's copy of ../shared/data/traces
REPLAY_TRACES = ["traces_5", "traces_60"]
REPLAY_POLICIES = ["none", "predict", "always"]
REPLAY_SPEEDUP = 10
REPLAY_EVENTS = 120
REPLAY_COMMAND = "bench/swap/run.py --build build --only replay"
TABLE_BEGIN = "<!-- live-replay table: written by bench/swap/run.py -->"
TABLE_END = "<!-- end of live-replay table -->"


def run_bench(build, common, *args, timeout=1800):
    cmd = [os.path.join(build, "bench", "swap_bench"), *args, *common]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_replay(build, cluster):
    """The traces under each policy, all at once: each run is one host process with one operator
    in a namespace of its own, sleeping between events, so they do not compete for much (the
    traces_60 runs take 12 minutes each at speed-up 10; in turn, the six would take 40)."""
    runs = []
    for trace in REPLAY_TRACES:
        for policy in REPLAY_POLICIES:
            cmd = [os.path.join(build, "bench", "swap_bench"), "replay", *cluster,
                   "--trace", os.path.join(TRACES, trace + ".csv"), "--speedup", str(REPLAY_SPEEDUP),
                   "--events", str(REPLAY_EVENTS), "--policy", policy]
            runs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    results = []
    for run in runs:
        out, _ = run.communicate(timeout=3600)
        if run.returncode != 0:
            raise RuntimeError(f"swap_bench replay failed ({run.returncode}): {' '.join(run.args)}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def replay_table(runs):
    rows = ["| trace | policy | found resident | resident s (x10: trace time) | swap-outs | restores (prefetches) "
            "| change-to-reconcile ms p50 / p99: resident, prefetched, swapped | reconciled (extra) |",
            "|---|---|---:|---:|---:|---:|---|---:|"]
    for r in runs:
        lat = r["change_to_reconcile_ms"]
        cells = ", ".join(f"{lat[k]['p50']:.2f} / {lat[k]['p99']:.2f} ({lat[k]['n']})" if lat[k]["n"] else "-"
                          for k in ("resident", "prefetched", "swapped"))
        done = f"{r['reconciles']}/{r['events']} ({r['extra_reconciles']})" if r["all_reconciled"] else \
            f"**{r['reconciles']}/{r['events']}**"
        rows.append(f"| {r['trace']} | {r['policy']} | {r['found_resident']:.3f} | {r['resident_seconds']:.1f} "
                    f"({r['resident_seconds_trace_time']:.0f}) | {r['swap_outs']} | {r['restores']} ({r['prefetches']}) "
                    f"| {cells} | {done} |")
    return "\n".join(rows)


def write_replay(runs):
    with open(os.path.join(ROOT, "bench", "results", "replay_live.json"), "w") as f:
        json.dump({"runs": runs, "speedup": REPLAY_SPEEDUP, "events": REPLAY_EVENTS, "machine": machine_summary(),
                   "command": REPLAY_COMMAND}, f, indent=2)
    doc = os.path.join(ROOT, "docs", "prediction.md")
    with open(doc) as f:
        text = f.read()
    begin, end = text.index(TABLE_BEGIN) + len(TABLE_BEGIN), text.index(TABLE_END)
    with open(doc, "w") as f:
        f.write(text[:begin] + "\n" + replay_table(runs) + "\n" + text[end:])


def key_figures(sizes, dirty, latency, memory):
    figures = {}
    for row in sizes["sizes"]:
        s = f"{row['mib']:g}mib"
        for name, field in (("restore", "restore_ms"), ("swapout", "swapout_ms"),
                            ("restore_touch_all", "restore_touch_all_ms"), ("verify_data", "verify_data_ms")):
            figures[f"{name}_ms_p50_{s}"] = row[field]["p50"]
            figures[f"{name}_ms_p99_{s}"] = row[field]["p99"]
    for row in dirty["dirty"]:
        d = f"{row['dirty_mib']:g}".replace(".", "_")
        suffix = "" if row["pattern"] == "contiguous" else "_scattered"
        figures[f"swapout_ms_p50_87mib_{d}mib_dirty{suffix}"] = row["swapout_ms"]["p50"]
        figures[f"swapout_ms_p99_87mib_{d}mib_dirty{suffix}"] = row["swapout_ms"]["p99"]
    deepest = max(dirty["chain"], key=lambda c: c["layers_before"])
    figures["restore_ms_p50_87mib_chain_of_8"] = deepest["restore_ms"]["p50"]
    for setup, run in latency.items():
        kind = {"resident": "resident", "swapped": "swapped", "prefetched": "prefetched"}[setup]
        figures[f"change_to_reconcile_ms_p50_{setup}"] = run["change_to_reconcile_ms"][kind]["p50"]
        figures[f"change_to_reconcile_ms_p99_{setup}"] = run["change_to_reconcile_ms"][kind]["p99"]
        figures[f"end_to_end_ms_p50_{setup}"] = run["end_to_end_ms"]["p50"]
        figures[f"end_to_end_ms_p99_{setup}"] = run["end_to_end_ms"]["p99"]
    p = latency["prefetched"]
    wakes = p["wakes_resident"] + p["wakes_swapped"]
    figures["prefetched_fraction_found_resident"] = p["wakes_resident"] / wakes if wakes else 0
    for trim in ("trimmed", "untrimmed"):
        base = memory["none"]["idle"][trim]
        sw = memory["swapped"]["idle"][trim]
        n = memory["swapped"]["operators"]
        suffix = "" if trim == "trimmed" else "_untrimmed"
        # Per swapped-out operator: what 100 more cost once 100 are loaded (code paths and heap
        # the first ones brought in are paid once per host, not per operator).
        more = memory["swapped"]["marginal"]
        figures[f"residual_bytes_per_swapped_operator{suffix}"] = (more[trim]["rss"] - sw["rss"]) / more["added"]
        figures[f"residual_pss_bytes_per_swapped_operator{suffix}"] = (more[trim]["smaps_pss"] - sw["smaps_pss"]) / more["added"]
        figures[f"residual_heap_bytes_per_swapped_operator{suffix}"] = (more[trim]["heap_in_use"] - sw["heap_in_use"]) / more["added"]
        figures[f"residual_bytes_per_swapped_operator_from_empty_host{suffix}"] = (sw["rss"] - base["rss"]) / n
        one = memory["one_swapped"]["idle"][trim]
        figures[f"marginal_bytes_per_swapped_operator{suffix}"] = (sw["rss"] - one["rss"]) / (n - 1)
        shared = memory["swapped_shared_namespace"]
        figures[f"residual_bytes_per_swapped_operator_shared_informer{suffix}"] = (
            shared["marginal"][trim]["rss"] - shared["idle"][trim]["rss"]) / shared["marginal"]["added"]
        figures[f"residual_heap_bytes_per_swapped_operator_shared_informer{suffix}"] = (
            shared["marginal"][trim]["heap_in_use"] - shared["idle"][trim]["heap_in_use"]) / shared["marginal"]["added"]
        res = memory["resident"]["idle"][trim]
        figures[f"bytes_per_resident_operator{suffix}"] = (res["rss"] - base["rss"]) / n
    figures["snapshot_disk_bytes_per_operator"] = memory["swapped"]["idle"]["snapshot_disk_bytes"] / memory["swapped"]["operators"]
    figures["host_rss_bytes_100_swapped_10_active"] = memory["swapped"]["active"]["trimmed"]["rss"]
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--only", choices=["replay"], help="run only this step (its results only)")
    parser.add_argument("--wasm-dir", help="the guests (default: BUILD/wasm)")
    parser.add_argument("--deps-dir", help="where deps.cmake is (default: BUILD)")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite docs/benchmarks/swap.md from bench/results/swap.json (it quotes restore.json)")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    deps = read_deps(os.path.abspath(args.deps_dir or build))
    if args.report_only:
        with open(os.path.join(ROOT, "bench", "results", "swap.json")) as f:
            write_report(ROOT, json.load(f), deps)
        print("wrote docs/benchmarks/swap.md")
        return
    artifacts = tempfile.mkdtemp(prefix="wop-bench-artifacts-")
    # On the same file system as a host's default snapshot folder would be (not tmpfs).
    snapshots = tempfile.mkdtemp(prefix="wop-bench-snapshots-", dir=os.path.expanduser("~"))
    common = ["--source-dir", ROOT, "--artifacts", artifacts, "--snapshot-dir", snapshots,
              "--wasm-dir", os.path.abspath(args.wasm_dir or os.path.join(build, "wasm"))]
    q = args.quick
    if args.only == "replay":
        with control_plane(deps) as kubeconfig:
            cluster = common + ["--kubeconfig", kubeconfig]
            run_bench(build, cluster, "latency", "--swap", "off", "--changes", "2")  # compiles counter.wasm
            replay = run_replay(build, cluster)
        subprocess.run(["rm", "-rf", artifacts, snapshots])
        write_replay(replay)
        print("wrote bench/results/replay_live.json and the live-replay table of docs/prediction.md")
        return
    sizes = run_bench(build, common, "sizes", "--saves", "4" if q else "20", "--restores", "5" if q else "10")
    dirty = run_bench(build, common, "dirty", "--reps", "10" if q else "50")
    with control_plane(deps) as kubeconfig:
        cluster = common + ["--kubeconfig", kubeconfig]
        # A first run compiles counter.wasm into the artifact cache (no run measures the compiler).
        run_bench(build, cluster, "latency", "--swap", "off", "--changes", "2")
        n = "20" if q else "200"
        latency = {
            "swapped": run_bench(build, cluster, "latency", "--swap", "on", "--predict", "off", "--idle-ms", "50", "--changes", n),
            "resident": run_bench(build, cluster, "latency", "--swap", "off", "--idle-ms", "50", "--changes", n),
            "prefetched": run_bench(build, cluster, "latency", "--swap", "on", "--predict", "on", "--idle-ms", "200",
                                    "--period-ms", "1000", "--changes", "15" if q else "60"),
        }
        mem = lambda *a: run_bench(build, cluster, "memory", "--idle-ms", "200", "--predict", "off", *a)  # noqa: E731
        memory = {
            "none": mem("--operators", "0", "--swap", "off"),
            "one_swapped": mem("--operators", "1", "--swap", "on"),
            "swapped": mem("--operators", "100", "--swap", "on", "--active", "10", "--marginal", "100"),
            "resident": mem("--operators", "100", "--swap", "off", "--active", "10"),
            "swapped_shared_namespace": mem("--operators", "100", "--swap", "on", "--shared-namespace", "on",
                                            "--marginal", "100"),
        }
        replay = run_replay(build, cluster)
    subprocess.run(["rm", "-rf", artifacts, snapshots])

    result = {"figures": key_figures(sizes, dirty, latency, memory), "sizes": sizes["sizes"], "dirty": dirty,
              "latency": latency, "memory": memory, "machine": machine_summary(), "quick": q,
              "versions": {"kubernetes": deps["WOP_KUBERNETES_VERSION"], "wasmtime": deps["WOP_WASMTIME_VERSION"]},
              "command": "make bench-swap"}
    # The required keys at the top level too, as the other benchmarks' results have them.
    result.update(result["figures"])
    with open(os.path.join(ROOT, "bench", "results", "swap.json"), "w") as f:
        json.dump(result, f, indent=2)
    write_report(ROOT, result, deps)
    write_replay(replay)
    print("wrote bench/results/swap.json, bench/results/replay_live.json, docs/benchmarks/swap.md and docs/prediction.md")


if __name__ == "__main__":
    main()
