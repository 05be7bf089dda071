#!/usr/bin/env python3
"""Smoke test of `make bench-scale` (the benchmark itself is not part of the suite): one short
run of each setup at N = 12 (its own control planes, as the benchmark's), into a scratch
folder. Every run must finish with every nonce round the ring and give what the scale report
plots: the host's time to /readyz (warm, and the warm-up's cold one), threads, maps and
virtual memory, PSS and hop latencies; the report and its plot must be written.

  scale_smoke_test.py SOURCE_DIR BUILD_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

source, build = sys.argv[1:3]
with tempfile.TemporaryDirectory() as out:
    subprocess.run(["/usr/bin/python3", os.path.join(source, "bench", "scale", "run.py"), "--build", build,
                    "--n", "12", "--repeats", "1", "--cycles", "2", "--min-hops", "33", "--warmup", "1", "--idle-s", "1",
                    "--seed", "7", "--out", out], check=True, timeout=280)
    with open(os.path.join(out, "scale.json")) as f:
        data = json.load(f)
    assert not data["failures"], data["failures"]
    runs = {r["setup"]: r for r in data["runs"]}
    assert set(runs) == {"wasm-swap-defaults", "wasm-swap", "wasm-swap-ns-watches"}, runs.keys()
    assert sum(1 for r in runs.values() if r["cold_ready_s"] is not None) == 1, "one cold start per N"
    for setup, r in runs.items():
        # --min-hops 33 over 11 hops a cycle: 3 measured cycles, one more than --cycles.
        assert r["n"] == 12 and r["cycles_measured"] == 3 and r["hop_samples"] == 3 * 11, r
        assert 0 < r["hop_latency_ms_p50"] <= r["hop_latency_ms_p99"], r
        assert 0 < r["ready_s"] < r["first_reconcile_s"] + 30, r
        shape = r["host_shape"]
        # The host's own threads: workers, the I/O loop, the HTTP servers; not one per operator.
        # At its peak, during start-up, also the 7 loader threads beside the main one
        # (kParallelLoads in run_command.cc), gone once every definition is loaded: whether a
        # sample catches them depends on timing, so the bound allows them.
        assert 2 <= shape["threads_steady"] < 12, shape
        assert shape["threads_steady"] <= shape["threads_peak"] <= shape["threads_steady"] + 7, shape
        assert shape["maps_peak"] > 12 and shape["vm_size_bytes_peak"] > 0, shape
        assert r["pss_steady_bytes"] > r["pss_anon_steady_bytes"] > 0, r
        assert r["settings"]["host_workers"] == 2, r["settings"]
    swap0 = runs["wasm-swap"]
    assert swap0["settings"]["swap_idle_ms"] == 0 and swap0["host_status"]["swapOuts"] > 0, swap0
    # 12 modules, under the parking limit: restores take their module back from memory, and
    # none is let go.
    modules = swap0["host_status"]["modules"]
    assert modules["sharedInMemory"] > 0 and modules["parkedLetGo"] == 0, modules
    sys.path[:0] = [os.path.join(source, "bench"), os.path.join(source, "bench", "scale")]
    import report_scale  # noqa: E402 (the report's own reading of those counters)
    assert report_scale.artifact_mapping_share(swap0) == 0, modules
    # The budget and watch threshold each run had, as the host's help states its defaults.
    assert runs["wasm-swap-defaults"]["settings"]["swap_memory_budget_mib"] == 64, runs["wasm-swap-defaults"]["settings"]
    assert runs["wasm-swap-defaults"]["settings"]["cluster_wide_watch_after"] == 32, runs["wasm-swap-defaults"]["settings"]
    assert runs["wasm-swap-ns-watches"]["settings"]["cluster_wide_watch_after"] == 0
    # 12 namespaces, under the threshold: one watch per namespace either way, none cluster-wide.
    for setup in ("wasm-swap-defaults", "wasm-swap-ns-watches"):
        watches = runs[setup]["host_status"]["watches"]
        assert watches["clusterWideResources"] == 0 and watches["informers"] >= 12, watches
    cold = next(r["cold_ready_s"] for r in runs.values() if r["cold_ready_s"] is not None)
    assert cold > 0, cold
    with open(os.path.join(out, "scale.md")) as f:
        page = f.read()
    assert "| wasm-swap | 12 | 1 |" in page, page
    assert "restores mapping their artifact %" in page, page
    assert os.path.getsize(os.path.join(out, "scale.png")) > 10_000
print("scale smoke: ok")
