#!/usr/bin/env python3
"""Runs the operator runtime benchmarks against a control plane of its own and writes
bench/results/runtime.json and docs/benchmarks/runtime.md (with a plot).

  bench/runtime/run.py --build BUILD_DIR
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from report import control_plane, machine_summary, read_deps  # noqa: E402


def run_bench(build, kubeconfig, artifacts, *args):
    cmd = [os.path.join(build, "bench", "runtime_bench"), *args, "--kubeconfig", kubeconfig,
           "--wasm-dir", os.path.join(build, "wasm"), "--source-dir", ROOT, "--artifacts", artifacts]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:  # say why: the program's own message, not only its exit status
        sys.exit(f"runtime_bench {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def plot_rss(path, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.2))
    xs = [r["operators"] for r in rows]
    ax.plot(xs, [r["host_rss_bytes"] / 2**20 for r in rows], marker="o", label="host RSS")
    ax.plot(xs, [r["linear_memory_bytes"] / 2**20 for r in rows], marker="s", label="guest linear memory")
    ax.set_xlabel("resident ring operators")
    ax.set_ylabel("MiB")
    ax.set_title("Host memory with resident operators")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    artifacts = tempfile.mkdtemp(prefix="wop-bench-artifacts-")
    with control_plane(deps) as kubeconfig:
        kubectl = [os.path.join(deps["WOP_KUBE_BIN"], "kubectl"), "--kubeconfig", kubeconfig]
        for manifest in ("deploy/crds/testresources.yaml", "deploy/rbac/example-operators.yaml"):
            subprocess.run(kubectl + ["apply", "-f", os.path.join(ROOT, manifest)], check=True, capture_output=True)
        subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/testresources.bench.wasm-operator.dev"],
                       check=True, capture_output=True)
        # A first run compiles ring.wasm into the artifact cache, so that no measured run
        # includes the compiler's memory and threads (a restarted host maps artifacts too).
        run_bench(build, kubeconfig, artifacts, "rss", "--operators", "1")
        rss = [run_bench(build, kubeconfig, artifacts, "rss", "--operators", str(n)) for n in (0, 10, 100)]
        latency = run_bench(build, kubeconfig, artifacts, "latency", "--ring", "10", "--cycles", "200")
        waiting = run_bench(build, kubeconfig, artifacts, "waiting", "--operators", "500")
    subprocess.run(["rm", "-rf", artifacts])

    result = {"rss": rss, "latency": latency, "waiting": waiting, "machine": machine_summary(),
              "versions": {"kubernetes": deps["WOP_KUBERNETES_VERSION"], "wasmtime": deps["WOP_WASMTIME_VERSION"]},
              "command": "make bench-runtime"}
    with open(os.path.join(ROOT, "bench", "results", "runtime.json"), "w") as f:
        json.dump(result, f, indent=2)
    plot_rss(os.path.join(ROOT, "docs", "benchmarks", "runtime-rss.png"), rss)

    mib = lambda b: b / 2**20  # noqa: E731
    base = rss[0]["host_rss_bytes"]
    # The slope from 10 to 100 operators: what one more costs, without the one-time costs the
    # first Wasm operator brings (the engine is created then, and code paths are touched once).
    per_op = (rss[2]["host_rss_bytes"] - rss[1]["host_rss_bytes"]) / (rss[2]["operators"] - rss[1]["operators"])
    first_costs = rss[1]["host_rss_bytes"] - base - rss[1]["operators"] * per_op
    rows = "\n".join(f"| {r['operators']} | {mib(r['host_rss_bytes']):.1f} | {mib(r['linear_memory_bytes']):.1f} | {r['threads']} |"
                     for r in rss)
    l, w = latency, waiting
    md = f"""# Operator runtime: benchmark

Command: `make bench-runtime` (also part of `make bench`). Figures: `bench/results/runtime.json`.
Machine: {result['machine']}. Kubernetes {deps['WOP_KUBERNETES_VERSION']}, Wasmtime {deps['WOP_WASMTIME_VERSION']}.
Everything runs against the real API server of the test control plane; the host runs in the
benchmark process with 2 worker threads.

## Host memory with 0, 10 and 100 resident operators

Ring operators (`operators/ring`), each watching its own namespace, after one lap of the ring
so each has reconciled. Identical modules (compiled code is shared; see the ring benchmark of
issue 6 for byte-distinct modules).

![host RSS]({'runtime-rss.png'})

| operators | host RSS (MiB) | guest linear memory (MiB) | threads |
|---|---|---|---|
{rows}

Each resident ring operator adds about {per_op/1024:.0f} KiB of host RSS (the slope from 10 to
100 operators; each has {mib(rss[2]['linear_memory_bytes'])/100*1024:.0f} KiB of linear memory, of which only the
pages it touches are resident). The
first Wasm operator also brings one-time costs, about {mib(first_costs):.1f} MiB: the Wasmtime
engine (created with the first Wasm operator) and code paths touched once.

## Change-to-reconcile delay

A ring of {l['ring']} operators; {l['cycles']} laps after a warm-up lap. Delay from the informer
event that queued a key to the start of its reconcile ({l['samples']} samples):

| p50 | p99 |
|---|---|
| {l['change_to_reconcile_ms_p50']:.3f} ms | {l['change_to_reconcile_ms_p99']:.3f} ms |

Ring round trip (driver writes ring-0, waits until ring-{l['ring']-1} has the nonce, polling
every 5 ms): p50 {l['ring_round_trip_ms_p50']:.1f} ms, p99 {l['ring_round_trip_ms_p99']:.1f} ms, i.e. about
{l['hop_ms_p50']:.1f} ms per hop, most of it the API server's write and watch path.

## Waiting reconciles hold no thread

{w['operators']} operators (`bench/guests/waiter.wat`) each start a reconcile that makes one API call
the API server answers slowly (a LIST at a resourceVersion it has not reached: it waits about 3 s,
then answers 504, which the client retries). All {w['operators']} were waiting after
{w['seconds_until_all_waiting']:.2f} s and all had finished after {w['seconds_until_all_done']:.1f} s.

| | threads |
|---|---|
| host idle, {w['operators']} operators loaded | {w['threads_idle']} |
| {w['calls_in_flight_at_sample']} reconciles waiting on the API server | {w['threads_while_waiting']} |

The thread count does not move: {w['workers']} workers enter guests, one I/O thread carries every
request, one thread ticks the epoch; the rest are the process's own (main, Wasmtime). Host RSS
with {w['operators']} loaded operators: {mib(w['host_rss_bytes_idle']):.1f} MiB idle, {mib(w['host_rss_bytes_while_waiting']):.1f} MiB
with all of them waiting, i.e. {(w['host_rss_bytes_while_waiting'] - w['host_rss_bytes_idle']) / w['operators'] / 1024:.1f} KiB per waiting reconcile
(request, response buffers and bookkeeping; nothing like a stack per waiter).
"""
    with open(os.path.join(ROOT, "docs", "benchmarks", "runtime.md"), "w") as f:
        f.write(md)
    print("wrote bench/results/runtime.json and docs/benchmarks/runtime.md")


if __name__ == "__main__":
    main()
