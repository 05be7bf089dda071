#!/usr/bin/env python3
"""A restore taken apart (issue 16): `swap_bench restore` beside its floor (`restore_floor`, a
small C program doing the same operations on a plain file), per memory size, with the page
cache hot and dropped. Writes bench/results/restore.json and docs/benchmarks/restore.md (+png).
Needs root for the cold runs (/proc/sys/vm/drop_caches).

  bench/swap/restore.py --build BUILD_DIR [--quick]
"""
import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from report import git_commit, machine_summary, read_deps  # noqa: E402

SIZES_MIB = [1, 10, 87]
OPERATIONS = ["map", "map_read", "map_write"]
PROTOTYPE = os.path.join(os.path.dirname(ROOT), "shared", "research", "prototype.md")
RESULT = os.path.join(ROOT, "bench", "results", "restore.json")
REPORT = os.path.join(ROOT, "docs", "benchmarks", "restore.md")
PLOT = os.path.join(ROOT, "docs", "benchmarks", "restore.png")
COMMAND = "make bench-restore"


def prototype_restores():
    """(MiB, ms) of the research prototype's restores, read from research/prototype.md."""
    try:
        text = open(PROTOTYPE).read()
    except OSError:
        return []
    line = next((l for l in text.splitlines() if "Measured" in l and "restore" in l), "")
    part = line.split("restore", 1)[1].split(";", 1)[0] if line else ""
    return [(float(mib), float(ms)) for ms, mib in re.findall(r"([\d.]+)\s*(?:ms\s*)?@([\d.]+)", part)]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, timeout=3600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def spread(samples):
    return {"n": len(samples), "median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def operator_wasm(build):
    """The real operator of map + first reconcile: the fleet benchmark's (bench/guests/fleet)."""
    return os.path.join(build, "wasm", "fleet.wasm")


def measure(build, rounds, hot, cold):
    """Rounds of (swap_bench restore, restore_floor hot, restore_floor cold) in a shuffled
    order; the samples of every round pooled per (size, cache, operation)."""
    scratch = tempfile.mkdtemp(prefix="wop-bench-restore-", dir=os.path.expanduser("~"))
    artifacts = os.path.join(scratch, "artifacts")
    os.makedirs(artifacts)
    files = {}
    for mib in SIZES_MIB:  # the floor's file: as many random bytes as the guest's memory
        files[mib] = os.path.join(scratch, f"floor-{mib}.bin")
        with open(files[mib], "wb") as f:
            f.write(os.urandom(mib << 20))
    ours, floor = {}, {}
    try:
        jobs = [("ours", r) for r in range(rounds)] + [("floor", r) for r in range(rounds)]
        random.shuffle(jobs)
        for job, _ in jobs:
            if job == "ours":
                out = run_json([os.path.join(build, "bench", "swap_bench"), "restore", "--source-dir", ROOT,
                                "--artifacts", artifacts, "--snapshot-dir", os.path.join(scratch, "snapshots"),
                                "--sizes", ",".join(map(str, SIZES_MIB)), "--restores", str(hot),
                                "--cold-restores", str(cold), "--operator-wasm", operator_wasm(build)])
                for row in out["restore"]:
                    cell = ours.setdefault((row["mib"], row["cache"]), {})
                    for key, value in row.items():
                        if isinstance(value, dict) and "n" in value:
                            cell.setdefault(key, []).append(value)
                    cell["operator_memory_bytes"] = row["operator_memory_bytes"]
                verify_before_run_max = out["verify_before_run_max_bytes"]
            else:
                for mib in SIZES_MIB:
                    for cache, samples in (("hot", hot), ("cold", cold)):
                        out = run_json([os.path.join(build, "bench", "restore_floor"), files[mib], str(samples), cache])
                        cell = floor.setdefault((mib, cache), {})
                        for key in ("map_ms", "map_read_ms", "map_write_ms", "copy_all_ms"):
                            cell.setdefault(key, []).extend(out[key])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ours, floor, verify_before_run_max


def pooled(summaries):
    """Median over rounds of each round's p50, and the min and max over all samples."""
    return {"rounds": len(summaries), "samples": sum(s["n"] for s in summaries),
            "median": statistics.median(s["p50"] for s in summaries),
            "min": min(s["min"] for s in summaries), "max": max(s["max"] for s in summaries)}


def build_result(ours, floor, verify_before_run_max, args, deps):
    rows = []
    for mib in SIZES_MIB:
        for cache in ("hot", "cold"):
            o, f = ours[(float(mib), cache)], floor[(mib, cache)]
            row = {"mib": mib, "cache": cache}
            for op in OPERATIONS:
                row[op] = {"ours_ms": pooled(o[f"{op}_ms"]), "floor_ms": spread(f[f"{op}_ms"])}
                row[op]["ratio_to_floor"] = row[op]["ours_ms"]["median"] / row[op]["floor_ms"]["median"]
            row["floor_copy_all_ms"] = spread(f["copy_all_ms"])
            # No bare floor does a reconcile: its baseline is the same reconcile of the same
            # operator that never left memory.
            resident = pooled(o["reconcile_resident_ms"])
            row["map_reconcile"] = {"ours_ms": pooled(o["map_reconcile_ms"]), "resident_ms": resident,
                                    "operator_memory_bytes": o["operator_memory_bytes"]}
            row["verify_after_run_ms"] = pooled(o["verify_after_run_ms"])
            row["verify_after_run_cpu_ms"] = pooled(o["verify_after_run_cpu_ms"])
            row["verify_after_run_storage_read_bytes"] = pooled(o["verify_after_run_storage_read_bytes"])
            rows.append(row)
    return {
        "command": COMMAND, "commit": git_commit(), "machine": machine_summary(),
        "versions": {"wasmtime": deps["WOP_WASMTIME_VERSION"]},
        "settings": {"sizes_mib": SIZES_MIB, "rounds": args.rounds, "hot_samples_per_round": args.hot,
                     "cold_samples_per_round": args.cold, "order": "rounds of ours and of the floor shuffled",
                     "guest": "bench/guests/swap_memory.wat, memory filled with random words",
                     "operator": "bench/guests/fleet (the fleet benchmark's operator) with an index of each size: "
                                 "one reconcile of a ConfigMap (a cache read answered from memory, 64 index lookups "
                                 "of which 8 update, a merge patch issued and not sent), timed to the entry's return",
                     "snapshot": "one full layer, on the file system of $HOME (not tmpfs)",
                     "checks": "every sample restores layers not yet known good (their files touched before it)",
                     "verify_before_run_max_bytes": verify_before_run_max,
                     "cold": "sync and echo 1 > /proc/sys/vm/drop_caches before each operation",
                     "quick": args.quick},
        "prototype_restore_ms": prototype_restores(),
        "rows": rows,
    }


def fmt(ms):
    return f"{ms:.3f}" if ms < 1 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def nearest_prototype(result, mib):
    points = result["prototype_restore_ms"]
    return min(points, key=lambda p: abs(p[0] - mib)) if points else None


def prototype_footing(result):
    """Per size, ours on the prototype's footing (every page back and written, page cache
    dropped) beside the prototype's nearest published restore: (mib, ours_ms, (mib, ms))."""
    rows = {(r["mib"], r["cache"]): r for r in result["rows"]}
    return [(mib, rows[(mib, "cold")]["map_write"]["ours_ms"]["median"], nearest_prototype(result, mib))
            for mib in result["settings"]["sizes_mib"]]


def write_report(result):
    rows = {(r["mib"], r["cache"]): r for r in result["rows"]}
    s = result["settings"]
    lines = ["# Restore, taken apart", "",
             f"Written by `{result['command']}` (bench/swap/restore.py) at commit {result['commit']} on "
             f"{result['machine']}, Wasmtime {result['versions']['wasmtime']}. Do not edit: re-run it.", "",
             "## What is measured", "",
             "- **map**: what the runtime's `Swapper::restore` does before the guest runs: open the snapshot, "
             f"check the layers of at most {s['verify_before_run_max_bytes'] >> 20} MiB of data (a bigger layer is "
             "checked after the guest is back, in the background), map linear memory from the snapshot "
             "and the compiled code from its artifact. No page of memory is read yet: the guest faults "
             "pages in as it touches them.",
             "- Every sample restores a layer not yet checked, as the first restore after a swap-out does: the "
             "host checks a layer's data once while its file is unchanged, so a later restore of the same layer "
             "(a base layer under newer deltas) skips the check; the benchmark touches the files before each "
             "sample so that it measures the check.",
             "- **map + read** / **map + write**: map, then the guest reads (writes) one word of every "
             "4 KiB page: what a guest that uses all its memory pays in page faults (copy on write for "
             "writes).",
             "- **map + first reconcile**: map, then the first reconcile of a real operator: " + s["operator"] + ". "
             "Its baseline is the same reconcile of the same operator that never left memory (no bare floor reconciles).",
             "- **background check**: the check of the bigger layers after the restore, with its own CPU "
             "time and the bytes it read from storage (`/proc/self/io`).",
             "- **floor**: `bench/swap/restore_floor.c` does the same on a plain file of the same size, "
             "with nothing of ours in the way: `open` + `mmap(MAP_PRIVATE)`, then a byte of every page "
             "read or written; and `copy_all`, a `read()` of the whole file into `malloc`'d memory, the "
             "way the research prototype's restore copies all memory back.",
             f"- **hot** cache: the snapshot and the compiled code are in the page cache; **cold**: {s['cold']}, "
             "so both come from storage.",
             f"- {s['rounds']} rounds of each program in a shuffled order; per round {s['hot_samples_per_round']} "
             f"hot and {s['cold_samples_per_round']} cold samples of each operation. Ours: the median of the "
             "rounds' medians, and the range of all samples; floor: median and range of all samples.",
             f"- Guest: {s['guest']}; snapshot: {s['snapshot']}.", "",
             "## Results", "",
             "| memory | cache | operation | ours, ms: median (range) | floor, ms: median | ours / floor |",
             "|---:|---|---|---|---:|---:|"]
    for mib in s["sizes_mib"]:
        for cache in ("hot", "cold"):
            r = rows[(mib, cache)]
            for op in OPERATIONS:
                o, f = r[op]["ours_ms"], r[op]["floor_ms"]
                lines.append(f"| {mib} MiB | {cache} | {op.replace('_', ' + ')} | {fmt(o['median'])} "
                             f"({fmt(o['min'])}–{fmt(o['max'])}) | {fmt(f['median'])} | {r[op]['ratio_to_floor']:.1f}x |")
    lines += ["", "A real operator: map + its first reconcile, beside the same reconcile resident "
              "(median (range); the operator's memory is its index and the SDK's heap):", "",
              "| index | operator memory | cache | map + first reconcile, ms | the reconcile resident, ms | restored / resident |",
              "|---:|---:|---|---|---|---:|"]
    for mib in s["sizes_mib"]:
        for cache in ("hot", "cold"):
            m = rows[(mib, cache)].get("map_reconcile")
            if not m:
                continue
            o, res = m["ours_ms"], m["resident_ms"]
            lines.append(f"| {mib} MiB | {m['operator_memory_bytes'] / 2**20:.1f} MiB | {cache} | {fmt(o['median'])} "
                         f"({fmt(o['min'])}–{fmt(o['max'])}) | {fmt(res['median'])} ({fmt(res['min'])}–{fmt(res['max'])}) | "
                         f"{o['median'] / res['median']:.0f}x |")
    lines += ["", "| memory | cache | background check, ms | its CPU, ms | read from storage | floor copy_all, ms |",
              "|---:|---|---:|---:|---:|---:|"]
    for mib in s["sizes_mib"]:
        for cache in ("hot", "cold"):
            r = rows[(mib, cache)]
            lines.append(f"| {mib} MiB | {cache} | {fmt(r['verify_after_run_ms']['median'])} | "
                         f"{fmt(r['verify_after_run_cpu_ms']['median'])} | "
                         f"{r['verify_after_run_storage_read_bytes']['median'] / 2**20:.1f} MiB | "
                         f"{fmt(r['floor_copy_all_ms']['median'])} |")
    lines += ["", "![restore against its floor](restore.png)", "", "## What it says", ""]
    for mib in s["sizes_mib"]:
        hot, cold = rows[(mib, "hot")], rows[(mib, "cold")]
        sentence = (f"- **{mib} MiB:** map takes {fmt(hot['map']['ours_ms']['median'])} ms hot "
                    f"({hot['map']['ratio_to_floor']:.1f}x its floor) and {fmt(cold['map']['ours_ms']['median'])} ms "
                    f"cold ({cold['map']['ratio_to_floor']:.1f}x); a guest that then reads every page has paid "
                    f"{fmt(hot['map_read']['ours_ms']['median'])} ms hot and {fmt(cold['map_read']['ours_ms']['median'])} ms "
                    f"cold ({hot['map_read']['ratio_to_floor']:.1f}x and {cold['map_read']['ratio_to_floor']:.1f}x the floor).")
        if hot.get("map_reconcile"):
            sentence += (f" A real operator of this index restored and entered for its first reconcile returns after "
                         f"{fmt(hot['map_reconcile']['ours_ms']['median'])} ms hot and "
                         f"{fmt(cold['map_reconcile']['ours_ms']['median'])} ms cold, against "
                         f"{fmt(hot['map_reconcile']['resident_ms']['median'])} ms for the same reconcile resident.")
        proto = nearest_prototype(result, mib)
        if proto:
            full = cold["map_write"]["ours_ms"]["median"]
            ratio = proto[1] / full
            faster = f"{ratio:.1f}x faster than" if ratio >= 1 else f"{1 / ratio:.1f}x slower than"
            sentence += (f" On the prototype's footing (all memory back, which map + write every page does, from "
                         f"a cold cache: {fmt(full)} ms) that is {faster} the prototype's "
                         f"{fmt(proto[1])} ms restore at {proto[0]:g} MiB (research/prototype.md, its machine, "
                         f"not re-run here); a bare `read()` of the same bytes takes "
                         f"{fmt(cold['floor_copy_all_ms']['median'])} ms cold here.")
        lines.append(sentence)
    lines += ["", "Re-run: `" + result["command"] + "` (root, for the cold runs); "
              "`bench/swap/restore.py --build build --quick` for a smoke run.", ""]
    with open(REPORT, "w") as f:
        f.write("\n".join(lines))
    write_plot(result)


def write_plot(result):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, cache in zip(axes, ("hot", "cold")):
        labels, ours, floors = [], [], []
        for r in (r for r in result["rows"] if r["cache"] == cache):
            for op in OPERATIONS:
                labels.append(f"{r['mib']}M {op.replace('map_', '+')}")
                ours.append(r[op]["ours_ms"]["median"])
                floors.append(r[op]["floor_ms"]["median"])
        x = range(len(labels))
        ax.bar([i - 0.2 for i in x], ours, width=0.4, label="ours", color="#4C72B0")
        ax.bar([i + 0.2 for i in x], floors, width=0.4, label="floor", color="#DD8452")
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, rotation=60, fontsize=7)
        ax.set_yscale("log")
        ax.set_title(f"page cache {cache}")
        ax.set_ylabel("ms (median)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--quick", action="store_true", help="1 round, few samples (a smoke run)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hot", type=int, default=10, help="hot samples per round")
    parser.add_argument("--cold", type=int, default=5, help="cold samples per round")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.hot, args.cold = 1, 2, 1
    if os.geteuid() != 0:
        sys.exit("bench/swap/restore.py: the cold runs drop the page cache, which needs root")
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    ours, floor, verify_before_run_max = measure(build, args.rounds, args.hot, args.cold)
    result = build_result(ours, floor, verify_before_run_max, args, deps)
    with open(RESULT, "w") as f:
        json.dump(result, f, indent=2)
    write_report(result)
    print(f"wrote {os.path.relpath(RESULT, ROOT)}, {os.path.relpath(REPORT, ROOT)} and the plot")


if __name__ == "__main__":
    main()
