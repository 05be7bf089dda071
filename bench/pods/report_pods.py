"""Writes docs/benchmarks/pods.md and its plot from bench/results/pods.json (bench/pods/run.py).
Every figure in the page comes from that file; medians of the repeated runs, with min-max."""
import json
import os
import statistics

MIB = 2 ** 20
SETUPS = ("pods-client-go", "pod-wasm-resident", "pod-wasm-swap")
COLORS = {"pods-client-go": "#1f77b4", "pod-wasm-resident": "#2ca02c", "pod-wasm-swap": "#d62728"}
# The prototype's published claims (../shared/research/prototype.md), for the comparison only.
PROTOTYPE = [("paper abstract", "64% less memory than container-based controller frameworks"),
             ("FOSDEM 2023", "up to 68% less memory than containerd; unloading idle controllers: "
                             "a further 50% less")]


def load(root):
    with open(os.path.join(root, "bench", "results", "pods.json")) as f:
        return json.load(f)


def groups(runs):
    """{(setup, n): [run, ...]}"""
    out = {}
    for r in runs:
        out.setdefault((r["setup"], r["n"]), []).append(r)
    return out


def stat(values):
    return statistics.median(values), min(values), max(values)


def steady(rs, key):
    return stat([r["steady"][key] for r in rs])


def fmt_mib(triple):
    med, lo, hi = triple
    return f"{med / MIB:.1f} ({lo / MIB:.1f}–{hi / MIB:.1f})"


def fmt(triple, digits=2):
    med, lo, hi = triple
    return f"{med:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def plot(path, g, ns):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for setup in SETUPS:
        pts = [(n, steady(g[(setup, n)], "node_pays_bytes")) for n in ns if (setup, n) in g]
        if not pts:
            continue
        ax.errorbar([p[0] for p in pts], [p[1][0] / MIB for p in pts],
                    yerr=[[(p[1][0] - p[1][1]) / MIB for p in pts], [(p[1][2] - p[1][0]) / MIB for p in pts]],
                    marker="o", capsize=3, label=setup, color=COLORS[setup])
    ax.set_xlabel("ring operators (N)")
    ax.set_ylabel("MiB: kubepods cgroup + containerd shims")
    ax.set_title("What the node pays for the ring operators (median, min–max)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


MEASURES = [
    ("node pays (kubepods usage + shims PSS, page cache included)",
     lambda st: st["node_pays_bytes"]),
    ("anonymous memory only (kubepods total_rss + shims PSS)",
     lambda st: st["total_rss_bytes"] + st["shims_pss_bytes"]),
    ("PSS of every process (pods' processes + shims)",
     lambda st: st["pods_pss_bytes"] + st["shims_pss_bytes"]),
]


def measure(rs, fn):
    return statistics.median(fn(r["steady"]) for r in rs)


def summary_lines(data):
    """Sentences comparing the setups, each computed here from the results: one per measure
    and N, the Wasm setups against pods-client-go, and swap against resident."""
    g = groups(data["runs"])
    ns = sorted({n for _, n in g})
    lines = []
    for label, fn in MEASURES:
        lines.append(f"- **{label}**:")
        for n in ns:
            base = g.get(("pods-client-go", n))
            if not base:
                continue
            b = measure(base, fn)
            parts = []
            for setup in ("pod-wasm-resident", "pod-wasm-swap"):
                if (setup, n) in g:
                    v = measure(g[(setup, n)], fn)
                    parts.append(f"`{setup}` {v / MIB:.1f} MiB ({100 * (1 - v / b):.0f}% less)")
            line = f"  - N = {n}: `pods-client-go` {b / MIB:.1f} MiB; " + "; ".join(parts)
            if ("pod-wasm-resident", n) in g and ("pod-wasm-swap", n) in g:
                res = measure(g[("pod-wasm-resident", n)], fn)
                sw = measure(g[("pod-wasm-swap", n)], fn)
                change = "less" if sw <= res else "more"
                line += f"; swap against resident: {abs(100 * (1 - sw / res)):.0f}% {change}"
            lines.append(line + ".")
    return lines


def table(g, ns):
    head = ("| setup | N | runs | node pays, MiB | kubepods usage | of it rss | of it cache | shims PSS | "
            "pod processes PSS | kubelet PSS | containerd PSS | hop p50 ms | hop p99 ms | CPU ms per hop | "
            "first round s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for n in ns:
        for setup in SETUPS:
            rs = g.get((setup, n))
            if not rs:
                continue
            rows.append(
                f"| {setup} | {n} | {len(rs)} | {fmt_mib(steady(rs, 'node_pays_bytes'))} | "
                f"{fmt_mib(steady(rs, 'usage_bytes'))} | {fmt_mib(steady(rs, 'total_rss_bytes'))} | "
                f"{fmt_mib(steady(rs, 'total_cache_bytes'))} | {fmt_mib(steady(rs, 'shims_pss_bytes'))} | "
                f"{fmt_mib(steady(rs, 'pods_pss_bytes'))} | {fmt_mib(steady(rs, 'kubelet_pss_bytes'))} | "
                f"{fmt_mib(steady(rs, 'containerd_pss_bytes'))} | "
                f"{fmt(stat([r['hop_latency_ms_p50'] for r in rs]))} | "
                f"{fmt(stat([r['hop_latency_ms_p99'] for r in rs]))} | "
                f"{fmt(stat([r['cpu_ms_per_hop'] for r in rs]))} | "
                f"{fmt(stat([r['first_reconcile_s'] for r in rs]), 1)} |")
    return head + "\n" + "\n".join(rows)


def write(root):
    data = load(root)
    g = groups(data["runs"])
    ns = sorted({n for _, n in g})
    out = os.path.join(root, "docs", "benchmarks")
    os.makedirs(out, exist_ok=True)
    if g:
        plot(os.path.join(out, "pods-memory.png"), g, ns)
    s = data["settings"]
    loads = [r["loadavg_1m_before"] for r in data["runs"]] + [r["loadavg_1m_after"] for r in data["runs"]]
    failures = "\n".join(f"- {f}" for f in data.get("failures", [])) or "- none"
    md = f"""# The ring as Pods on a real node

Command: `make bench-pods` (`bench/pods/run.py --build build`), as root. Results:
`bench/results/pods.json`, from which this page is written (`bench/pods/run.py --report-only`).
Commit {data['commit']}; machine: {data['machine']}; Kubernetes {data['versions']['WOP_KUBERNETES_VERSION']},
etcd {data['versions']['WOP_ETCD_VERSION']}, Wasmtime {data['versions']['WOP_WASMTIME_VERSION']}, {data['containerd']},
runc and the CNI plugins from Debian 12; the node of `testenv/node.py` (cgroup v1).

Settings: N = {s['n']}; {s['repeats']} runs of each (setup, N) in a shuffled order (seed {s['seed']}), each
on a control plane and node of its own; {s['warmup']} warm-up and {s['cycles']} measured cycles per run;
client QPS {s['client_qps']} (negative: no limiter), burst {s['client_burst']}; `pod-wasm-swap` with
`--swap-idle-ms {s['swap_idle_ms']}` and `--swap-predict {s['swap_predict']}` (the ring benchmark's setting: each
operator is swapped out as soon as it has passed the nonce on; the host's defaults are 2000 ms and on).
Load average (1 min) at the start and end of runs: {min(loads):.2f}–{max(loads):.2f}.

## What the node pays for the operators

"Node pays" is the `kubepods` cgroup's `memory.usage_in_bytes` (cgroup v1, hierarchical: every
pod's containers and its pause container, page cache included) plus the PSS of the containerd
shims, which run outside it. It is the median of the samples (one a second) taken during the
measured cycles, then the median over runs; (min–max) over runs.

{chr(10).join(summary_lines(data))}

Why three measures: a cgroup's usage counts the page cache its Pods read or wrote, so each
client-go Pod pays for the pages of its own binary that were read, and `pod-wasm-swap` pays for
its snapshots, written to an `emptyDir` on the node's disk, as cache until the kernel reclaims
them. Anonymous memory leaves the cache out; PSS counts mapped pages only, shared ones split.
The prototype measured cgroup v2 `memory.current` (cache included) of the containers, pause
and shims.

The prototype's published figures, for comparison (not measured here):
{chr(10).join(f'- {who}: "{what}"' for who, what in PROTOTYPE)}

![memory against N](pods-memory.png)

{table(g, ns)}

Columns: "of it rss" and "of it cache" are `memory.stat`'s `total_rss` and `total_cache` of the
same cgroup; "pod processes PSS" sums the PSS of every process in it; kubelet and containerd
run whatever the node runs and are not in "node pays". Hop latency uses the ring benchmark's
probe (the time between two namespaces first showing a nonce, watched from outside); CPU is the
`kubepods` cgroup's `cpuacct.usage` plus the shims', over the measured cycles.

## How it was run

- `pods-client-go`: N Pods, each a pause container and one container running a byte-distinct
  copy of the client-go ring binary (mounted from the node, so no code page is shared, as with
  one image per operator; the prototype also made each operator's artifact distinct). No
  resource limits.
- `pod-wasm-resident` / `pod-wasm-swap`: one Pod running `wasm-operator run --operators` with N
  byte-distinct ring modules (trusted, the Pod's ServiceAccount), the artifact cache warmed by
  one run of the host before the measured launch, as in `make bench-ring`. Snapshots go to an
  `emptyDir` on the node's disk.
- The page cache is dropped (`echo 1 > /proc/sys/vm/drop_caches`) right before the launch, so
  the binaries, modules and compiled artifacts the harness wrote are charged to the Pods that
  read them, not to the harness.
- Both run with one ServiceAccount that may use TestResources; the API server and etcd run on
  the machine, outside the node.

Failed runs:
{failures}
"""
    with open(os.path.join(out, "pods.md"), "w") as f:
        f.write(md)
