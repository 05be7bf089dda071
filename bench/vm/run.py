#!/usr/bin/env python3
"""The address space of resident guests and the cost of explicit bounds checks, against the
engine's memory reservation (`wasm-operator run --guest-memory-reservation-mib`). No control
plane. Writes bench/results/vm.json, then docs/benchmarks/vm.md and its plot (report_vm.py).

  bench/vm/run.py --build BUILD_DIR [--reservations 0,64,1024] [--counts 100,1000,10000]
                  [--bounds-processes 3] [--repeats 5]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "bench", "vm"))
from report import git_commit, machine_summary, read_deps  # noqa: E402
import report_vm  # noqa: E402


def run_bench(build, *args, timeout=1800):
    cmd = [os.path.join(build, "bench", "vm_bench"), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        sys.exit(f"vm_bench {' '.join(args)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ints(text):
    return [int(x) for x in text.split(",") if x]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--reservations", default="0,64,1024",
                        help="MiB per memory; 0: Wasmtime's default (4 GiB and guard pages)")
    parser.add_argument("--counts", default="100,1000,10000,16000,20000,30000",
                        help="resident instances at which figures are read, in one process")
    parser.add_argument("--module", default="",
                        help="the resident guest (default: BUILD/wasm/ring.wasm)")
    parser.add_argument("--bounds-reservations", default="0,64")
    parser.add_argument("--bounds-processes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    module = args.module or os.path.join(build, "wasm", "ring.wasm")
    rng = random.Random(args.seed)
    load_before = os.getloadavg()[0]

    artifacts = tempfile.mkdtemp(prefix="wop-vm-bench-")
    try:
        resident = []
        order = [(mib, restored) for mib in ints(args.reservations) for restored in (0, 1)]
        rng.shuffle(order)
        for mib, restored in order:
            # Its own artifact folder per run: each reservation compiles its own code.
            print(f"resident: reservation {mib} MiB, restored {restored}", file=sys.stderr)
            resident.append(run_bench(build, "resident", "--module", module, "--counts", args.counts,
                                      "--reservation-mib", str(mib), "--restored", str(restored),
                                      "--artifacts", os.path.join(artifacts, f"{mib}-{restored}")))
        runs = [mib for mib in ints(args.bounds_reservations) for _ in range(args.bounds_processes)]
        rng.shuffle(runs)
        bounds = []
        for i, mib in enumerate(runs):
            print(f"bounds: run {i + 1}/{len(runs)}, reservation {mib} MiB", file=sys.stderr)
            result = run_bench(build, "bounds", "--reservation-mib", str(mib), "--repeats", str(args.repeats),
                               "--loop-wat", os.path.join(ROOT, "bench", "guests", "bounds_loop.wat"),
                               "--json-wasm", os.path.join(build, "wasm", "json_roundtrip.wasm"))
            result["run_order"] = i
            bounds.append(result)
    finally:
        shutil.rmtree(artifacts, ignore_errors=True)

    result = {
        "resident": resident,
        "bounds": bounds,
        "settings": {"reservations_mib": ints(args.reservations), "counts": ints(args.counts),
                     "module": os.path.relpath(module, build), "bounds_reservations_mib": ints(args.bounds_reservations),
                     "bounds_processes": args.bounds_processes, "repeats_per_process": args.repeats,
                     "order": "shuffled (seed %d)" % args.seed, "identical_modules": True},
        "machine": machine_summary(),
        "load_before": load_before,
        "versions": {"wasmtime": deps["WOP_WASMTIME_VERSION"]},
        "commit": git_commit(),
        "command": "make bench-vm",
    }
    path = os.path.join(ROOT, "bench", "results", "vm.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    report_vm.write_report(result)


if __name__ == "__main__":
    main()
