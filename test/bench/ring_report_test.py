#!/usr/bin/env python3
"""Unit test of the ring report's comparisons (bench/ring/report_ring.py and summary.py) on rows
made here: rows are re-run piecemeal, sometimes on another VM, and a target or a summary line
that sets figures of two machines side by side must say it does not compare them, never give a
ratio; rows of one machine still get their ratio and verdict.

  ring_report_test.py SOURCE_DIR
"""
import os
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "bench"))
sys.path.insert(0, os.path.join(sys.argv[1], "bench", "ring"))
import report_ring  # noqa: E402
import summary  # noqa: E402

MIB = 2**20


def row(setup, machine, pss_mib, hop_ms, n=100):
    return {"setup": setup, "n": n, "runs": 3, "spread": {}, "pss_steady_bytes": pss_mib * MIB,
            "hop_latency_ms_p50": hop_ms, "hop_latency_ms_p99": hop_ms * 3, "cpu_measured_seconds": 1.0,
            "settings": {"machine": machine, "commit": "abc1234", "swap_idle_ms": "0ms", "swap_predict": "off",
                         "shuffle_seed": 1}}


def check(condition, what):
    if not condition:
        sys.exit(f"FAIL: {what}")


ours, other = "2 cores (A)", "2 cores (B)"
line = lambda rows: report_ring.verdict(rows, "wasm-swap", "client-go", "hop_latency_ms_p50", 1.2, "p50", str)  # noqa: E731

same = line([row("wasm-swap", ours, 20, 3.0), row("client-go", ours, 2800, 2.0)])
check("1.5x (missed" in same, f"one machine gives the ratio and verdict: {same}")

mixed = line([row("wasm-swap", ours, 20, 3.0), row("client-go", other, 2800, 2.0)])
check("not compared" in mixed and "missed" not in mixed and "1.5x" not in mixed,
      f"two machines give no ratio and no verdict: {mixed}")

setups = ("client-go", "controller-runtime-combined", "wasm-swap", "wasm-swap-defaults")
one = summary._ring_lines([row(s, ours, 20 + i, 2.0 + i) for i, s in enumerate(setups)])
check(any("more)" in ln for ln in one) and not any("not compared" in ln for ln in one),
      f"the summary compares the setups of one machine: {one}")
two = summary._ring_lines([row(s, ours if s != "client-go" else other, 20 + i, 2.0 + i) for i, s in enumerate(setups)])
check(any("not compared" in ln for ln in two) and not any("x more" in ln for ln in two),
      f"the summary compares no setups of two machines: {two}")
print("ring report comparisons: ok")
