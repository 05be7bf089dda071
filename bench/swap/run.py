#!/usr/bin/env python3
"""Runs the swap benchmark and writes bench/results/swap.json and docs/benchmarks/swap.md (with
plots). Snapshot timings need no control plane; latency and host memory run against one.

  bench/swap/run.py --build BUILD_DIR [--quick]
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


def run_bench(build, common, *args, timeout=1800):
    cmd = [os.path.join(build, "bench", "swap_bench"), *args, *common]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    artifacts = tempfile.mkdtemp(prefix="wop-bench-artifacts-")
    # On the same file system as a host's default snapshot folder would be (not tmpfs).
    snapshots = tempfile.mkdtemp(prefix="wop-bench-snapshots-", dir=os.path.expanduser("~"))
    common = ["--source-dir", ROOT, "--artifacts", artifacts, "--snapshot-dir", snapshots,
              "--wasm-dir", os.path.join(build, "wasm")]
    q = args.quick
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
    print("wrote bench/results/swap.json and docs/benchmarks/swap.md")


if __name__ == "__main__":
    main()
