#!/usr/bin/env python3
"""Smoke test of `make bench-fleet` (the benchmark itself is not part of the suite): its quick
mode (6 operators, short windows, one run per config) on the fixture's control plane, into a
scratch folder; every config must finish, lose no change, and give figures the report can use:
memory three ways, a resident fraction in [0, 1] (1 with swap off), wake-up latencies and the
host's own part of them, CPU, and swap-outs only where swapping is on. The report and its plot must be written.

  fleet_smoke_test.py SOURCE_DIR BUILD_DIR   (WOP_TESTENV_DIR: the fixture's control plane)
"""
import json
import os
import subprocess
import sys
import tempfile

source, build = sys.argv[1:3]
kubeconfig = os.path.join(os.environ["WOP_TESTENV_DIR"], "kubeconfig")
with tempfile.TemporaryDirectory() as out:
    subprocess.run(["/usr/bin/python3", os.path.join(source, "bench", "fleet", "run.py"), "--build", build,
                    "--quick", "--kubeconfig", kubeconfig, "--out", out, "--seed", "7"],
                   check=True, timeout=170)
    with open(os.path.join(out, "fleet.json")) as f:
        result = json.load(f)
    assert not result["failed"], result["failed"]
    runs = {r["config"]: r for r in result["runs"]}
    assert set(runs) == {"swap-off", "swap-idle", "swap-predict", "swap-settle"}, runs.keys()
    settings = result["settings"]
    for key in ("n", "seed", "size_distribution", "traces", "speedup", "host_idle_ms_default",
                "host_predict_default", "versions", "commit", "machine"):
        assert settings.get(key) is not None, key
    assert len(result["fleet"]) == settings["n"]
    assert all(1024 <= op["index_kib"] <= 8192 for op in result["fleet"]), result["fleet"]
    for config, r in runs.items():
        assert r["lost_changes"] == 0, (config, r["lost_changes"])
        assert r["wake_latency_samples"] > 0 and 0 < r["wake_latency_ms_p50"] <= r["wake_latency_ms_p99"], r
        assert r["pss_bytes_median"] > r["pss_anon_bytes_median"] > 0, r
        assert 0 <= r["resident_fraction"] <= 1.05, (config, r["resident_fraction"])
        assert r["cpu_seconds"] > 0, r
        assert len(r["timeline"]) >= settings["duration_s"] / 2, len(r["timeline"])
        assert r["reconcile_errors"] == 0 and r["restarts"] == 0, r
        # The host's own part, from its first status written in the window (bench/ring/own_part.py).
        part = r["host_wake_ms"]
        assert part and part["source"] and 0 <= part["window_start_after_measured_s"] <= 2.5, (config, part)
        assert part["all"]["count"] > 0 and 0 < part["all"]["p50_ms"] <= part["all"]["p99_ms"], (config, part)
    off = runs["swap-off"]
    assert off["swap_outs"] == 0 and off["resident_fraction"] > 0.95, off
    # Indexes of at least 1 MiB each are resident with swap off: the host's anonymous memory holds them.
    assert off["pss_anon_bytes_median"] > sum(op["index_kib"] for op in result["fleet"]) * 1024, off
    assert runs["swap-idle"]["swap_outs"] > 0 and runs["swap-idle"]["resident_fraction"] < 1, runs["swap-idle"]
    # The early swap-out swaps confidently predicted operators out between their wakes, and the
    # prefetch brings them back: more swap-outs than the idle period allows, and prefetches.
    settle, defaults = runs["swap-settle"], runs["swap-predict"]
    assert settle["swap_outs"] > defaults["swap_outs"] and settle["prefetches"] > 0, (settle, defaults)
    with open(os.path.join(out, "fleet.md")) as f:
        page = f.read()
    assert "Goal met" in page or "Goal missed" in page, page[:500]
    assert os.path.getsize(os.path.join(out, "fleet-memory.png")) > 10_000
print("fleet smoke: ok")
