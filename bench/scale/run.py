#!/usr/bin/env python3
"""The scale benchmark of issues 16 (item 5) and 17: the ring of bench/ring at large N in one
host, against N. Writes bench/results/scale.json and docs/benchmarks/scale.md (with a plot).

  bench/scale/run.py --build BUILD_DIR [--n 100,1000,3000] [--setups wasm-swap-defaults,wasm-swap]
                     [--repeats 3] [--big-repeats 1] [--cycles 10] [--min-hops 10000] [--warmup 2]

Each run is one ring run (bench/ring/run.py's run_one: a fresh control plane, a memory cgroup,
N byte-distinct modules, the nonce driven round the ring), with a few cycles since a lap at large
N is long, and at small N as many as --min-hops measured hops take (N = 100: 102 cycles), so
that every N's hop p99 rests on as many hops. Beside the ring's figures each run records, from the host process: time from launch to
its first /readyz 200 (every definition loaded from the warm artifact cache, every informer
synced), threads, virtual memory (VmSize) and map count. The first run of each N warms the
artifact cache by running the host once; that warm-up is a cold start, and its time to /readyz
(compiling every module) is recorded as cold_ready_s. Later runs of the same N copy that cache
(the modules are the same bytes), so only one cold start per N is paid. An invocation replaces
the rows of the (setup, N) pairs it runs and keeps the others (--fresh starts a new file).

Setups: wasm-swap-defaults runs the host's own swap settings (idle 2 s, prediction on, a 64 MiB
memory budget: resident linear memory and compiled code above it send out first the operators
whose next wake is furthest away); wasm-swap the ring's idle 0 without prediction (every operator out as soon
as it passed the nonce on); wasm-swap-ns-watches the host's defaults but one watch per namespace
(--cluster-wide-watch-after 0), against the defaults' one cluster-wide watch past 32 namespaces:
the API server's CPU and memory both ways. Opt-in: wasm-swap-budget, the host's defaults with the
budget set to --swap-budget-mib (for budgets other than the default). Each run records the
budget and the watch threshold it ran with. Runs of N <= 1000 repeat --repeats times, larger N --big-repeats times (each run is
minutes there), all in a shuffled order per N. A run that fails is kept as a failure with its
reason: where the machine or the API server breaks is a result too.
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "bench", "ring"))
from report import git_commit, machine_summary, read_deps  # noqa: E402
import report_scale  # noqa: E402
import run as ring  # noqa: E402  (bench/ring/run.py)

RESULTS = os.path.join(ROOT, "bench", "results", "scale.json")
DOCS = os.path.join(ROOT, "docs", "benchmarks")
SETUPS = ("wasm-swap-defaults", "wasm-swap", "wasm-swap-ns-watches")  # wasm-swap-budget: opt-in
BIG_N = 1000  # above this, --big-repeats runs
MIN_HOPS = 10_000  # measured hops per run at least (cycles_for)


def load(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"runs": [], "failures": [], "invocations": []}


def save(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=1)


def cycles_for(n, cycles, min_hops):
    """Measured cycles of a run at N: at least cycles, and enough for min_hops hops. The p99 of
    a run rests on its hops' worst 1%: at N = 100, 10 cycles gave 990 hops, so that p99 was the
    10th worst hop, and it moved from 5.7 to 8.7 ms between runs while N = 1,000's (the 100th
    worst of 9,990) held near 9 ms; the goal compares the two."""
    return max(cycles, -(-min_hops // max(1, n - 1)))


def write_reports(args, docs, data, deps):
    client_go = [r for r in ring.report_ring.load_runs(ROOT) if r.get("setup") == "client-go"]
    report_scale.write(docs, data, client_go)
    if not args.out:  # the summary atop docs/benchmarks.md quotes scale.json: it went stale without
        ring.report_ring.write(ROOT, {"machine": machine_summary(), "deps": deps, "skipped": {}})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--n", default="100,1000,3000", help="ring sizes, comma-separated (10000 is opt-in)")
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--repeats", type=int, default=3, help=f"runs of each (setup, N) for N <= {BIG_N}")
    parser.add_argument("--big-repeats", type=int, default=1, help=f"runs of each (setup, N) for N > {BIG_N}")
    ring.add_run_arguments(parser, cycles=10, warmup=2)
    parser.add_argument("--min-hops", type=int, default=MIN_HOPS,
                        help="measured hops per run at least: small N run more than --cycles cycles")
    # Keeping is the default: a partial run (one setup, one N) that started a fresh file would
    # discard every other row, a trap that cost a hand merge once. --keep stays accepted, since
    # earlier invocations recorded in the results file name it.
    parser.add_argument("--keep", action="store_true", help="the default: keep earlier runs of other (setup, N) pairs")
    parser.add_argument("--fresh", action="store_true", help="start a new results file (drop every earlier run)")
    parser.add_argument("--out", default=None,
                        help="write scale.json, scale.md and scale.png into this folder instead of the repository's")
    parser.add_argument("--report-only", action="store_true", help="only rewrite docs/benchmarks/scale.md")
    args = parser.parse_args()
    results = os.path.join(args.out, "scale.json") if args.out else RESULTS
    docs = args.out or DOCS
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    if args.report_only:
        write_reports(args, docs, load(results), deps)
        return
    if args.seed is None:
        args.seed = random.randrange(2**31)
    shuffle = random.Random(args.seed)
    names = [s for s in args.setups.split(",") if s]
    sizes = [int(x) for x in args.n.split(",") if x]

    data = {"runs": [], "failures": [], "invocations": []} if args.fresh else load(results)
    # This invocation's (setup, N) pairs replace earlier runs of the same; the rest are kept.
    data["runs"] = [r for r in data["runs"] if not (r["n"] in sizes and r["setup"] in names)]
    data["failures"] = [f for f in data["failures"] if not (f["n"] in sizes and f["setup"] in names)]
    data["invocations"].append({"argv": sys.argv[1:], "n": sizes, "setups": names, "seed": args.seed,
                                "commit": git_commit(), "machine": machine_summary(),
                                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    cycles = args.cycles
    for n in sizes:
        args.repeats_of_n = args.repeats if n <= BIG_N else args.big_repeats
        args.cycles = cycles_for(n, cycles, args.min_hops)
        order = [(name, k) for name in names for k in range(args.repeats_of_n)]
        shuffle.shuffle(order)
        seed_dir = tempfile.mkdtemp(prefix=f"wop-scale-artifacts-{n}-")
        args.artifact_seed = seed_dir
        try:
            for position, (name, k) in enumerate(order):
                args.repeat_index, args.run_order = k, position
                print(f"scale N={n} {name} (run {k + 1} of {args.repeats_of_n}) ...", flush=True)
                started = time.monotonic()
                try:
                    r = ring.run_one(name, n, args, deps, build, {})
                except ring.RunFailed as e:
                    print(f"FAILED: {e}", flush=True)
                    data["failures"].append({"setup": name, "n": n, "repeat": k, "error": str(e),
                                             "seconds": round(time.monotonic() - started, 1)})
                    save(results, data)
                    continue
                r["settings"]["repeats"] = args.repeats_of_n
                r["harness"] = "bench/scale/run.py"
                data["runs"].append(r)
                save(results, data)
                shape = r.get("host_shape") or {}
                print(f"  PSS {r['pss_steady_bytes'] / 2**20:.1f} MiB (anon {r['pss_anon_steady_bytes'] / 2**20:.1f}), "
                      f"hop p50 {r['hop_latency_ms_p50']:.2f} ms p99 {r['hop_latency_ms_p99']:.2f} ms, "
                      f"ready {r['ready_s']} s (cold {r.get('cold_ready_s')} s), threads {shape.get('threads_peak')}, "
                      f"maps {shape.get('maps_peak')}", flush=True)
        finally:
            shutil.rmtree(seed_dir, ignore_errors=True)
    write_reports(args, docs, data, deps)
    if data["failures"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
