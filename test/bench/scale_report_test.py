#!/usr/bin/env python3
"""Unit test of the scale report's client-go extrapolation (bench/scale/report_scale.py) on rows
made here: the slope comes from two N of one machine only, each scale N gets its figure and
whether the machine's memory holds it, and with no such pair the report says so, never a figure.
And its sentence on the host's own part of the hop p99, with the wait for a worker when recorded.

  scale_report_test.py SOURCE_DIR
"""
import os
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "bench"))
sys.path.insert(0, os.path.join(sys.argv[1], "bench", "scale"))
import report_scale  # noqa: E402

MIB = 2**20
HERE, THERE = "2 cores (A), 24 GiB, Linux x", "2 cores (B), 24 GiB, Linux y"


def run(n, machine, pss_mib, usage_mib, setup="client-go"):
    return {"setup": setup, "n": n, "pss_steady_bytes": pss_mib * MIB, "cgroup_usage_steady_bytes": usage_mib * MIB,
            "settings": {"machine": machine}}


def check(condition, what):
    if not condition:
        sys.exit(f"FAIL: {what}")


host = {("wasm-swap-defaults", 1000): [run(1000, HERE, 80, 900, "wasm-swap-defaults")],
        ("wasm-swap-defaults", 10000): [run(10000, HERE, 320, 9000, "wasm-swap-defaults")]}
# 28 MiB of PSS and 40 of usage per operator between N = 50 and 100 here; N = 10 ran elsewhere.
client_go = [run(50, HERE, 1400, 2000), run(50, HERE, 1402, 2000), run(100, HERE, 2800, 4000),
             run(10, THERE, 1, 1)]
lines = report_scale.client_go_lines(client_go, host)
text = "\n".join(lines)
check("N = 50 and 100" in text and "28.0 MiB of PSS" in text and "40.0 MiB of cgroup" in text,
      f"the slope of the two N of one machine: {text}")
thousand = next((ln for ln in lines if "N = 1,000:" in ln), "")
check("27.3 GiB of PSS" in thousand and "39.1 GiB of cgroup usage" in thousand
      and "more than the machine's 24 GiB" in thousand and "80.0 MiB" in thousand,
      f"N = 1,000 extrapolated, beyond the machine, beside the host: {thousand}")
check(any("N = 10,000:" in ln for ln in lines), f"every scale N above the measured ones: {text}")

apart = report_scale.client_go_lines([run(50, THERE, 1400, 2000), run(100, HERE, 2800, 4000)], host)
check(len(apart) == 1 and "no slope" in apart[0] and "GiB of PSS" not in apart[0],
      f"two machines give no extrapolation: {apart}")

# The host's own part at p99, with the wait for a worker where the runs recorded it.
def own(p99, worker=None):
    return {"own_part_ms_p99": p99, "own_part": {"all": {} if worker is None else {"worker_p99_ms": worker}}}


clause = report_scale.own_part_clause([own(1.0, 0.5)], [own(2.0, 0.75)])
check("2.00 ms at N = 1,000 against 1.00 ms" in clause and "worker" in clause and "0.75 against 0.50 ms" in clause,
      f"the own part and its wait for a worker: {clause}")
clause = report_scale.own_part_clause([own(1.0)], [own(2.0, 0.75)])
check("2.00 ms at N = 1,000" in clause and "worker" not in clause, f"no wait where one N did not record it: {clause}")
print("scale report client-go extrapolation and own part: ok")
