"""Writes docs/benchmarks/swap.md and its plots from the swap benchmark's result."""
import json
import os

# The research prototype's figures (../shared/research/prototype.md): full copy of the memory.
PROTOTYPE_RESTORE = [(1.19, 9.3), (87, 195.0)]
PROTOTYPE_SWAPOUT = [(1.19, 3.9), (87, 1250.8)]


def plot_sizes(path, sizes):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [r["mib"] for r in sizes]
    for field, label, marker in (("restore_ms", "restore (open + map)", "o"),
                                 ("restore_touch_all_ms", "restore + guest reads every page", "^"),
                                 ("swapout_ms", "swap-out (full save + drop)", "s")):
        ax.plot(xs, [r[field]["p50"] for r in sizes], marker=marker, label=f"{label}, p50")
        ax.fill_between(xs, [r[field]["p50"] for r in sizes], [r[field]["p99"] for r in sizes], alpha=0.15)
    ax.plot(*zip(*PROTOTYPE_RESTORE), "k--", marker="x", label="prototype restore")
    ax.plot(*zip(*PROTOTYPE_SWAPOUT), "k:", marker="x", label="prototype swap-out")
    ax.axhline(1, color="red", lw=0.8, ls="--", label="restore target (1 ms)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("linear memory (MiB, random data)")
    ax.set_ylabel("ms (shaded: up to p99)")
    ax.set_title("Restore and swap-out against memory size")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_dirty(path, dirty):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for pattern, marker in (("contiguous", "o"), ("scattered", "s")):
        rows = [r for r in dirty["dirty"] if r["pattern"] == pattern and r["dirty_mib"] > 0]
        ax.plot([r["dirty_mib"] for r in rows], [r["swapout_ms"]["p50"] for r in rows], marker=marker,
                label=f"swap-out, {pattern} pages, p50")
    ax.axhline(5, color="red", lw=0.8, ls="--", label="target at 1 MiB (5 ms)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("MiB dirtied since the restore (of 87 MiB)")
    ax.set_ylabel("ms")
    ax.set_title("Swap-out (delta) against dirty size")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def verdict(value, target, unit, lower_is_better=True):
    met = value < target if lower_is_better else value > target
    ratio = target / value if value else float("inf")
    if met:
        return f"met ({value:.3g} {unit}, {ratio:.3g}x under)"
    return f"**missed** ({value:.3g} {unit}, {value / target:.3g}x over)"


def restore_footing(root):
    """The prototype's footing (all memory back, page cache dropped) from bench/results/restore.json."""
    try:
        with open(os.path.join(root, "bench", "results", "restore.json")) as f:
            restore = json.load(f)
    except OSError:
        return "On the prototype's footing (all memory back): not measured yet (`make bench-restore`)."
    import restore as restore_bench  # bench/swap/restore.py, beside this file
    parts = [f"{ours:.1f} ms at {mib} MiB against {theirs[1]:g} ms at {theirs[0]:g} MiB ({theirs[1] / ours:.1f}x)"
             for mib, ours, theirs in restore_bench.prototype_footing(restore)]
    return ("On the prototype's footing (every page back and written, page cache dropped; "
            "[restore.md](restore.md), `make bench-restore`): " + "; ".join(parts) + ".")


def write_report(root, r, deps):
    docs = os.path.join(root, "docs", "benchmarks")
    plot_sizes(os.path.join(docs, "swap-sizes.png"), r["sizes"])
    plot_dirty(os.path.join(docs, "swap-dirty.png"), r["dirty"])
    f = r["figures"]
    kib = lambda b: b / 1024  # noqa: E731
    size_rows = "\n".join(
        f"| {s['mib']:g} | {s['restore_ms']['p50']:.3f} | {s['restore_ms']['p99']:.3f} | {s['swapout_ms']['p50']:.1f} | "
        f"{s['swapout_ms']['p99']:.1f} | {s['save_ms']['p50']:.1f} | {s['restore_touch_all_ms']['p50']:.2f} | "
        f"{s['verify_data_ms']['p50']:.1f} | {kib(s['disk_bytes']):.0f} |" for s in r["sizes"])
    dirty_rows = "\n".join(
        f"| {d['dirty_mib']:g} | {d['pattern']} | {d['runs']} | {d['swapout_ms']['p50']:.2f} | {d['swapout_ms']['p99']:.2f} | "
        f"{d['save_ms']['p50']:.2f} | {d['full_saves']}/{d['swapout_ms']['n']} | {kib(d['bytes_written']):.0f} | "
        f"{d['restore_ms']['p50']:.3f} |" for d in r["dirty"]["dirty"])
    chain_rows = "\n".join(
        f"| {c['layers_before']} | {c['restore_ms']['p50']:.3f} | {c['swapout_ms']:.2f} | {'full' if c['full'] else 'delta'} |"
        for c in r["dirty"]["chain"][:9])
    lat = r["latency"]
    lat_rows = "\n".join(
        f"| {name} | {run['change_to_reconcile_ms'][name]['n']} of {run['changes']} | "
        f"{run['change_to_reconcile_ms'][name]['p50']:.3f} | {run['change_to_reconcile_ms'][name]['p99']:.3f} | "
        f"{run['end_to_end_ms']['p50']:.2f} | {run['end_to_end_ms']['p99']:.2f} | {run['restore_ms']['p50']:.3f} |"
        for name, run in lat.items())
    p = lat["prefetched"]
    mem = r["memory"]

    def mem_row(label, sample, extra=""):
        t, u = sample["trimmed"], sample["untrimmed"]
        return (f"| {label} | {t['rss']/2**20:.1f} | {u['rss']/2**20:.1f} | {t['smaps_pss']/2**20:.1f} | "
                f"{t['smaps_pss_anon']/2**20:.1f} | {t['smaps_pss_file']/2**20:.1f} | {sample['swapped_out']} | "
                f"{sample['linear_memory_bytes']/2**20:.1f} |{extra}")
    mem_rows = "\n".join([
        mem_row("0 operators", mem["none"]["idle"]),
        mem_row("1 swapped out", mem["one_swapped"]["idle"]),
        mem_row("100 swapped out", mem["swapped"]["idle"]),
        mem_row("100 swapped out, changes to 10", mem["swapped"]["active"]),
        mem_row("100 resident", mem["resident"]["idle"]),
        mem_row("100 resident, changes to 10", mem["resident"]["active"]),
    ])
    worst_restore = max(s["restore_ms"]["p50"] for s in r["sizes"])
    trim_effect = f["residual_bytes_per_swapped_operator_untrimmed"] - f["residual_bytes_per_swapped_operator"]
    md = f"""# Swapping operators to disk: benchmark

Command: `make bench-swap` (also part of `make bench`); `bench/swap/run.py --build BUILD [--quick]`.
Figures: `bench/results/swap.json` (key figures at the top level and under `figures`; every
sample summary beneath). Machine: {r['machine']}. Kubernetes {deps['WOP_KUBERNETES_VERSION']},
Wasmtime {deps['WOP_WASMTIME_VERSION']}.{' **Quick run: few repetitions.**' if r['quick'] else ''}
Snapshots go to a folder in `$HOME` (ext4 on this machine, like the default
`~/.cache/wasm-operator/snapshots`), never to tmpfs. Nothing drops the page cache between
repetitions: a snapshot just written is in it, as it is for a host that swaps out and back in.

## Targets

| target | result |
|---|---|
| restore p50 < 1 ms at every size up to 100 MiB (map only, page cache hot) | {verdict(worst_restore, 1, 'ms')} (worst size) |
| swap-out of 87 MiB with 1 MiB dirty < 5 ms | {verdict(f['swapout_ms_p50_87mib_1mib_dirty'], 5, 'ms')} (contiguous); scattered over 256 pages: {verdict(f['swapout_ms_p50_87mib_1mib_dirty_scattered'], 5, 'ms')} |
| < 64 KiB host memory per swapped-out operator | with an informer of its own (a namespace no other operator watches): {verdict(kib(f['residual_bytes_per_swapped_operator']), 64, 'KiB')}; the operator's own state (informer shared): {verdict(kib(f['residual_bytes_per_swapped_operator_shared_informer']), 64, 'KiB')} |
| change-to-reconcile p50 < 2 ms swapped out, loopback | {verdict(f['change_to_reconcile_ms_p50_swapped'], 2, 'ms')} |

Prototype for comparison (`../shared/research/prototype.md`, which copied the whole memory in and
out): restore 9.3 ms at 1.19 MiB and 195 ms at 87 MiB; swap-out 3.9 ms at 1.19 MiB and 1250.8 ms
at 87 MiB. Here a first, full swap-out of 87 MiB takes {f['swapout_ms_p50_87mib']:.0f} ms
({1250.8/f['swapout_ms_p50_87mib']:.0f}x less), and the usual swap-out after a restore (a delta) {f['swapout_ms_p50_87mib_1mib_dirty']:.2f} ms with 1 MiB dirty.
**The restore figures on this page are not comparable with the prototype's:** they time the map
only ({f['restore_ms_p50_1mib']:.3f} ms at 1 MiB, {f['restore_ms_p50_87mib']:.3f} ms at 87 MiB, page cache hot, without
the check of small layers that the runtime's restore also does), and the guest faults its pages
in later. {restore_footing(root)}

## Restore and swap-out against linear memory size

Guest `bench/guests/swap_memory.wat` (ABI v1 shaped, its one mutable global exported), loaded
through `wasm::ModuleCache`, prepared against the ABI v1 linker and instantiated by
`runtime::WasmGuestFactory`, as `OperatorHost` does; no control plane. Per size: memory grown to
S and filled from the host with random words (no zero page, nothing compresses), then
{r['sizes'][0]['swapout_ms']['n']} times:

- **swap-out** = `WasmOperatorGuest::saveTo` (a first, full save: every non-zero page written to a
  new sparse layer file, renamed into place) + dropping the instance. `save` is saveTo alone.
- **restore** = `OperatorSnapshot::open` + `WasmGuestFactory::restore` (a fresh instance without
  `_initialize`, memory grown, the layer mapped copy-on-write over it, globals set); {r['sizes'][0]['restore_ms']['n']} samples
  per size. After each, outside the timed part, the guest reads 16 random words back through an
  export and its global is checked.
- **restore + read all** = restore, then the guest reads one word of every 4 KiB page
  (`bench_touch`; its sum is checked): the cost a guest that uses its whole memory pays later,
  one page fault per page. Restore alone does not include it: the map is lazy by design.
- **verify** = `OperatorSnapshot::verifyData`, the data checksum check the runtime runs on its
  background thread after a restore (off the guest's path).

![time against size](swap-sizes.png)

| MiB | restore p50 (ms) | restore p99 | swap-out p50 (ms) | swap-out p99 | save p50 | restore + read all p50 | verify p50 | on disk (KiB) |
|---|---|---|---|---|---|---|---|---|
{size_rows}

Full swap-out is bound by writing the data into the page cache (and, at p99, by the kernel's
dirty-page throttling while earlier snapshots are written back to disk); it happens once per
operator, after which swap-outs are deltas (below).

## Swap-out against the size dirtied since the restore

87 MiB of random data saved once (full); then, {r['dirty']['dirty'][0]['swapout_ms']['n']} times per row: restore from that one-layer
chain, the guest writes one word into each of D MiB of pages (contiguous, or single pages spread
evenly over the memory), swap-out timed (saveTo finds the written pages in /proc/self/pagemap and
writes a delta layer; then the instance is dropped).

![time against dirty size](swap-dirty.png)

| dirty MiB | pattern | runs | swap-out p50 (ms) | p99 | save p50 | full saves | written (KiB) | restore p50 (ms) |
|---|---|---|---|---|---|---|---|---|
{dirty_rows}

A delta holds at most 32 runs of pages (`kMaxDeltaRuns`, after merging dirty pages closer than
16 pages); with more (the scattered pattern, one page every 80) the save is a full one and costs
more than a full 87 MiB swap-out above: it rewrites a spare layer file (`docs/swap.md`), and
truncating the spare frees its 87 MiB of blocks inside the save (deleting a mapped file used to
free them a moment later, when the instance was dropped, outside this timing). That is the price of keeping every restore under about 130
`mmap` calls (see below): an earlier version allowed 256-run deltas in chains of 8, and its
restore grew to 10.7 ms at 8 layers. A guest's writes are usually clustered (stack, the top of
its heap), which the contiguous rows show.

### Restore after a chain of deltas

Each cycle restores (10 timed restores), dirties 1 MiB as 256 scattered pages and swaps out; the
chain grows by one delta per cycle until it has 4 layers (`kMaxLayers`), or a delta would need
more than 32 runs, when the save is full (so with this pattern every save is full).

| layers | restore p50 (ms) | swap-out (ms) | save |
|---|---|---|---|
{chain_rows}

Restore maps every run of every layer (one `mmap` each), so it grows with runs x layers; the
limits above keep it at most 4 x 32 runs. Deepest chain measured: {f['restore_ms_p50_87mib_chain_of_8']:.2f} ms.

## Change-to-reconcile latency

One counter operator (`test/guests/counter`, build/wasm/counter.wasm) watching one ConfigMap in a
namespace of its own, on the real API server of the test control plane (loopback), 2 workers.
The driver changes a label of the ConfigMap:

- **swapped**: swap on, idle period {lat['swapped']['idle_ms']} ms, no prediction; each change is made once the
  operator's stats say it is swapped out;
- **resident**: swap off; each change after a {lat['resident']['idle_ms']} ms pause;
- **prefetched**: swap on with prediction, idle period {p['idle_ms']} ms; a change every {p['period_ms']} ms (+-5%).

Change-to-reconcile is the host's own figure (`runtime::FigureRecorder`, the host's observer, by `WakeKind`): from the informer
event that queued the key to the start of its reconcile, restore included. End-to-end is the
driver's: from just before the PATCH until a GET (polled every 0.2 ms) shows the count the
reconcile wrote; the count must go up by exactly one per change, so state survives every swap.

| setup | samples of that kind | p50 (ms) | p99 (ms) | end-to-end p50 (ms) | end-to-end p99 | restore p50 (ms) |
|---|---|---|---|---|---|---|
{lat_rows}

Prefetched: {p['wakes_resident']} of {p['wakes_resident'] + p['wakes_swapped']} changes found the operator resident
({100*f['prefetched_fraction_found_resident']:.0f}%; {p['prefetches']} prefetches, {p['swap_outs']} swap-outs);
changes that found it prefetched: {p['change_to_reconcile_ms']['prefetched']['n']}, swapped: {p['change_to_reconcile_ms']['swapped']['n']} (p50 {p['change_to_reconcile_ms']['swapped']['p50']:.3f} ms), resident: {p['change_to_reconcile_ms']['resident']['n']}.

## Host memory

Separate processes, each a host (2 workers) with N counter operators, each watching a namespace
of its own, swap idle period 200 ms, no prediction. Sampled 2 s after every operator reconciled
once and (swap on) all were swapped out; "changes to 10": a label change every 100 ms to each of
10 operators (shorter than the idle period: those 10 stay resident), sampled after 4 s. RSS from
/proc/self/status, PSS from /proc/self/smaps_rollup; "trimmed" after `malloc_trim(0)`.

| setup | RSS trimmed (MiB) | RSS untrimmed | PSS | PSS anon | PSS file | swapped out | linear memory (MiB) |
|---|---|---|---|---|---|---|---|
{mem_rows}

- **residual per swapped-out operator** = what 100 more swapped-out operators add to a host that
  already has 100 (RSS after / before, in one process, / 100): {kib(f['residual_bytes_per_swapped_operator']):.1f} KiB
  (PSS {kib(f['residual_pss_bytes_per_swapped_operator']):.1f} KiB). That includes an informer of its own (a watch and a cache of its
  namespace's ConfigMaps), its queue, stats and predictor and its snapshot chain's bookkeeping.
  With all of them watching one namespace (one shared informer), what is left is the
  operator's own state: {kib(f['residual_bytes_per_swapped_operator_shared_informer']):.1f} KiB ({kib(f['residual_heap_bytes_per_swapped_operator_shared_informer']):.1f} KiB of heap in use).
  So about {kib(f['residual_bytes_per_swapped_operator'] - f['residual_bytes_per_swapped_operator_shared_informer']):.0f} KiB is the informer, which a client-go operator watching its own namespace pays too.
  (Until 2026-11-30 each informer and each watch decoder kept a simdjson parser, about 40 KiB
  even after a tiny document, and the residual was 79.1 KiB; heaptrack of 100 swapped-out
  operators found it. They now make a parser per parse.)
  Measured from an empty host instead ((100 swapped - 0 operators) / 100): {kib(f['residual_bytes_per_swapped_operator_from_empty_host']):.1f} KiB, which also
  counts code paths and heap arenas the first operators bring in once per host.
  Marginal, (100 swapped - 1 swapped) / 99: {kib(f['marginal_bytes_per_swapped_operator']):.1f} KiB.
- malloc_trim: without it the residual is {kib(f['residual_bytes_per_swapped_operator_untrimmed']):.1f} KiB ({'+' if trim_effect >= 0 else ''}{kib(trim_effect):.1f} KiB):
  freed guest memory is returned by unmapping (Wasmtime's memories are mmaps), so trimming the
  heap {'matters' if abs(trim_effect) > 4096 else 'hardly matters'}.
- resident, for comparison: {kib(f['bytes_per_resident_operator']):.0f} KiB per operator.
- snapshot on disk per operator: {kib(f['snapshot_disk_bytes_per_operator']):.0f} KiB (allocated blocks; zero pages are holes).
  Those pages live in the page cache after the write: reclaimable, not charged to the host's RSS,
  and read back on restore only when the guest touches them.
"""
    with open(os.path.join(docs, "swap.md"), "w") as fh:
        fh.write(md)
