"""docs/benchmarks/api.md from bench/results/api.json: every sentence with a figure is made here
from the data, with the settings that produced it."""
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {"path": "path (cached)", "image-cached": "image, already pulled", "image-cold": "image, cold (pull + compile)",
          "path-kubectl": "path (cached), kubectl apply"}
SHORT = {"path": "path\n(cached)", "image-cached": "image\n(pulled before)", "image-cold": "image\n(cold)",
         "path-kubectl": "path via\nkubectl apply"}
COLORS = {"path": "#4C72B0", "image-cached": "#55A868", "image-cold": "#C44E52", "path-kubectl": "#8172B2"}


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else None


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "p10": percentile(values, 10), "p90": percentile(values, 90)}


def ms(s, digits=0):
    """'123 ms median (p10-p90 100-150, max 170, n = 20)' of a summary in seconds."""
    if not s:
        return "not measured"
    f = f"{{:.{digits}f}}"
    return (f"{f.format(s['median'] * 1e3)} ms median (p10-p90 {f.format(s['p10'] * 1e3)}-{f.format(s['p90'] * 1e3)}, "
            f"max {f.format(s['max'] * 1e3)}, n = {s['n']})")


def ok_runs(doc, kind):
    return [r for r in doc["apply"] if r["kind"] == kind and not r.get("error")]


def registry_mark(run, what, status):
    """When the registry answered the first request for what with status (s after the create)."""
    ends = [q["end_s"] for q in run.get("registry_requests", []) if q["what"] == what and q["status"] == status]
    return min(ends) if ends else None


def steps(run):
    """The cold apply's time split into consecutive steps (s), from the host's log, the
    registry's log and the times the host's store and artifact cache wrote their files; None
    when a mark is missing. A 401 challenge is a step of its own only when the registry sent one
    (the host sends known pull credentials with its first request)."""
    blob = registry_mark(run, "blob", 200)
    stored = max(blob, run["stored_s"]) if blob is not None and run.get("stored_s") is not None else None
    challenged = registry_mark(run, "manifest", 401)
    marks = [("controller picks the object up", run.get("fetch_started_s"))]
    if challenged is not None:
        marks.append(("pull Secret read, manifest asked (401)", challenged))
    marks += [("pull Secret read, manifest" if challenged is None else "manifest with credentials",
               registry_mark(run, "manifest", 200)),
              ("layer, digest checked, stored", stored),
              ("compile (artifact written)", run.get("compiled_s")),
              ("load and start", run.get("loaded_s")),
              ("caches synced, reconcile, copy seen", run.get("first_reconcile_s"))]
    out, last = [], 0.0
    for name, at in marks:
        if at is None:
            return None
        out.append((name, at - last))
        last = at
    return out


def cached_steps(run):
    if run.get("loaded_s") is None:
        return None
    return [("create to loaded (host log)", run["loaded_s"]),
            ("loaded to copy seen", run["first_reconcile_s"] - run["loaded_s"])]


def segment_rounds(doc, operator, kind):
    up = doc["upgrade"]
    return [r for r in up["rounds"][operator] if up["segments"][r["segment"]]["kind"] == kind]


def delay_table(doc):
    """Rows of (operator, kind, rounds, p50, p99, max, over baseline p99) and the per-operator p99s."""
    rows, limits = [], {}
    for operator in ("operator_1", "operator_0"):
        base = [r["delay_ms"] for r in segment_rounds(doc, operator, "baseline")]
        limits[operator] = percentile(base, 99)
        for kind in ("baseline", "upgrade"):
            d = [r["delay_ms"] for r in segment_rounds(doc, operator, kind)]
            over = sum(1 for v in d if v > limits[operator])
            rows.append((operator, kind, len(d), percentile(d, 50), percentile(d, 99), max(d) if d else None, over))
    return rows, limits


def per_upgrade(doc, limit):
    up = doc["upgrade"]
    out = []
    for i, seg in enumerate(up["segments"]):
        if seg["kind"] != "upgrade":
            continue
        d = [r for r in up["rounds"]["operator_1"] if r["segment"] == i]
        delayed = [r for r in d if r["delay_ms"] > limit]
        out.append({**seg, "index": i + 1, "rounds": len(d), "delayed": len(delayed),
                    "worst_ms": max((r["delay_ms"] for r in d), default=None)})
    return out


def in_flight(doc):
    """Rounds through the upgraded operator whose input showed while an upgrade was in flight:
    from the patch to the status saying Running at the new generation."""
    up = doc["upgrade"]
    windows = [(s["patch_sent"], s["patch_sent"] + s["status_running_s"]) for s in up["segments"]
               if s["kind"] == "upgrade" and s.get("status_running_s") is not None]
    return [r["delay_ms"] for r in up["rounds"]["operator_1"] if any(a <= r["at_s"] <= b for a, b in windows)]


def baseline_segment_medians(doc):
    up = doc["upgrade"]
    out = []
    for i, seg in enumerate(up["segments"]):
        d = [r["delay_ms"] for r in up["rounds"]["operator_1"] if r["segment"] == i]
        if seg["kind"] == "baseline" and d:
            out.append(statistics.median(d))
    return out


def plot(doc, path):
    fig = plt.figure(figsize=(10, 7))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1], width_ratios=[1, 1.1])
    ax = fig.add_subplot(grid[0, 0])
    kinds = [k for k in LABELS if ok_runs(doc, k)]
    for i, kind in enumerate(kinds):
        values = [r["first_reconcile_s"] * 1e3 for r in ok_runs(doc, kind)]
        ax.scatter([i] * len(values), values, color=COLORS[kind], alpha=0.7)
        ax.hlines(statistics.median(values), i - 0.3, i + 0.3, color="black")
    ax.set_xticks(range(len(kinds)), [SHORT[k] for k in kinds], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("create to first reconcile (ms)")
    ax.set_title("apply to first reconcile (bar: median)", fontsize=10)

    ax = fig.add_subplot(grid[0, 1])
    cold = [c for c in (steps(r) for r in ok_runs(doc, "image-cold")) if c]
    if cold:
        names = [n for n, _ in cold[0]]
        medians = [statistics.median(c[i][1] for c in cold) * 1e3 for i in range(len(names))]
        y = list(range(len(names)))[::-1]
        ax.barh(y, medians, color="#C44E52")
        for yi, value in zip(y, medians):
            ax.text(value, yi, f" {value:.0f}", va="center", fontsize=8)
        ax.set_yticks(y, [n.replace(", ", ",\n", 1) if len(n) > 30 else n for n in names], fontsize=7)
        ax.set_xlim(0, max(medians) * 1.2)
        ax.set_xlabel("ms, median of each step, in order from the top")
        ax.set_title(f"cold image: where the {statistics.median(sum(v for _, v in c) for c in cold) * 1e3:.0f} ms go",
                     fontsize=10)

    ax = fig.add_subplot(grid[1, :])
    up = doc["upgrade"]
    for seg in up["segments"]:
        if seg["kind"] == "upgrade":
            ax.axvspan(seg["start"], seg["end"], color="#f2d0d0", lw=0)
            ax.axvline(seg["patch_sent"], color="#C44E52", lw=0.8)
    rounds = up["rounds"]["operator_1"]
    ax.scatter([r["at_s"] for r in rounds], [r["delay_ms"] for r in rounds], s=4, color="#4C72B0",
               label="a round through the upgraded operator")
    _, limits = delay_table(doc)
    ax.axhline(limits["operator_1"], color="grey", linestyle="--", label="baseline p99")
    ax.set_yscale("log")
    ax.set_xlabel("s into the run (shaded: upgrade segments, red line: the new generation written)")
    ax.set_ylabel("input to output (ms)")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("upgrade under load: per-round delay of the upgraded operator", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def header(doc):
    st, d, v = doc["settings"], doc["settings"]["host_defaults"], doc["versions"]
    return [
        "# The WasmOperator API: apply to first reconcile, upgrades under load",
        "",
        f"Generated by `bench/api/run.py` (`make bench-api`) from `bench/results/api.json` (commit {doc['commit']}, "
        f"{doc['date']}, {doc['machine']}; the run took {doc['wall_s'] / 60:.1f} min). Kubernetes "
        f"{v.get('WOP_KUBERNETES_VERSION', '?')}, etcd {v.get('WOP_ETCD_VERSION', '?')}, Wasmtime "
        f"{v.get('WOP_WASMTIME_VERSION', '?')}, oras {v.get('WOP_ORAS_VERSION', '?')}, "
        f"{st['registry']['server']}.",
        "",
        f"**Conditions.** One `wasm-operator run` host without `--operators` (it runs the cluster's WasmOperator "
        f"objects) at its defaults: {d.get('workers')} workers, client QPS {d.get('qps')} and burst "
        f"{d.get('burst')}, swap {d.get('swap')} with idle {d.get('swap-idle-ms')} and prediction "
        f"{d.get('swap-predict')}; only where its files go, the registry's CA (`--module-ca-file`) and loopback "
        f"port 0 for /metrics and the probes are given. The control plane (`testenv/controlplane.py`), the "
        f"registry (docker-registry, TLS from the test CA, basic auth, modules pushed by oras) and the harness "
        f"run on the same machine over loopback. The module is the ring operator (`ring.wasm`, "
        f"{st['ring_wasm_bytes'] / 1024:.0f} KiB). Times are from the harness's monotonic clock; a first "
        f"reconcile is when the harness's watch of TestResources (one stream for all namespaces, opened "
        f"before the run) delivers the operator's copy.{load_sentence(doc)}",
    ]


def load_sentence(doc):
    load = doc.get("machine_load") or {}
    parts = [f"{phase} {v['busy_share'] * 100:.0f}% (load average {v['loadavg1_median']:.1f}, at most "
             f"{v['loadavg1_max']:.1f})" for phase, v in load.items() if phase in ("apply", "upgrade")]
    if not parts:
        return ""
    return (" The machine's cores were busy, this benchmark's own processes (host, control plane, registry, "
            "harness) included: " + ", ".join(parts) + " during the measured phases; other work on the machine "
            "shows up in the latencies.")


def apply_section(doc):
    st = doc["settings"]
    runs = {k: ok_runs(doc, k) for k in LABELS}
    first = {k: summary([r["first_reconcile_s"] for r in runs[k]]) for k in LABELS}
    lines = ["", "## Apply to first reconcile", "",
             f"Each repetition creates a WasmOperator (the ring operator; input and output namespaces of its own, "
             f"with a TestResource already waiting in the input one) with a POST to the API server, which is what "
             f"`kubectl apply` sends for a new object; `path-kubectl` runs `kubectl apply -f -` instead. The time "
             f"runs from the request's start to the copy in the output namespace. {st['repeats']} repetitions of "
             f"each kind, all in one list shuffled with seed {st['seed']}, {st['settle_s']} s apart after each "
             f"repetition's namespaces and object are in place; each object is deleted, and unloaded, before the "
             f"next. Not measured: one warm-up object of each source first (ring.wasm compiled into the artifact "
             f"cache, the cached image pulled, one cold pull).", "",
             "| module | n | create to first reconcile | to status Running | to \"loaded\" (host log) | fetched | compiled |",
             "|---|---|---|---|---|---|---|"]
    for k in LABELS:
        if not runs[k]:
            continue
        running = summary([r.get("status_running_s") for r in runs[k]])
        loaded = summary([r.get("loaded_s") for r in runs[k]])
        fetched = sum(1 for r in runs[k] if r.get("fetched"))
        compiled = sum(r.get("compiled_artifacts", 0) for r in runs[k])
        lines.append(f"| {LABELS[k]} | {len(runs[k])} | {ms(first[k])} | {ms(running)} | {ms(loaded)} | "
                     f"{fetched} of {len(runs[k])} | {compiled} of {len(runs[k])} |")
    lines += [""] + apply_sentences(doc, runs, first)
    return lines


def apply_sentences(doc, runs, first):
    out = []
    cached = [cached_steps(r) for r in runs["path"]]
    cached = [c for c in cached if c]
    if cached:
        out.append(f"- **Cached (path):** {ms(first['path'])}. Of that, "
                   f"{statistics.median(c[0][1] for c in cached) * 1e3:.0f} ms until the host logged the operator "
                   f"loaded (the watch event reaching the host's controller, the ServiceAccount's access review, "
                   f"the compiled module mapped from the artifact cache, the instance started) and "
                   f"{statistics.median(c[1][1] for c in cached) * 1e3:.0f} ms from there to the copy (its "
                   f"informers listing and watching, the reconcile, the write, the harness's watch), medians.")
    slow = [r for k in ("path", "image-cached") for r in runs[k]
            if first[k] and r["first_reconcile_s"] > 2 * first[k]["median"] and r.get("loaded_s") is not None]
    if slow:
        fast = [r for k in ("path", "image-cached") for r in runs[k] if r not in slow and r.get("loaded_s") is not None]
        gap = lambda rs: statistics.median(r["first_reconcile_s"] - r["loaded_s"] for r in rs) * 1e3  # noqa: E731
        out.append(f"- **A slow mode:** {len(slow)} of {len(runs['path']) + len(runs['image-cached'])} cached "
                   f"repetitions took more than twice their kind's median, "
                   f"{statistics.median(r['first_reconcile_s'] for r in slow) * 1e3:.0f} ms median. The extra time is "
                   f"after the host logged the operator loaded: {gap(slow):.0f} ms from there to the copy in those, "
                   f"{gap(fast):.0f} ms in the others (its informers' start and first reconcile; the host's log "
                   f"does not split it further).")
    if runs["image-cached"]:
        out.append(f"- **Image already pulled** (a second object of the same image by digest): "
                   f"{ms(first['image-cached'])}; the module comes from the store by its digest, without a "
                   f"request to the registry ({sum(1 for r in runs['image-cached'] if r.get('fetched'))} of "
                   f"{len(runs['image-cached'])} repetitions fetched, "
                   f"{sum(len(r.get('registry_requests', [])) for r in runs['image-cached'])} registry requests, "
                   f"{sum(r.get('compiled_artifacts', 0) for r in runs['image-cached'])} compiled).")
    cold = [steps(r) for r in runs["image-cold"]]
    cold = [c for c in cold if c]
    if cold:
        parts = ", ".join(f"{name} {statistics.median(c[i][1] for c in cold) * 1e3:.0f} ms"
                          for i, (name, _) in enumerate(cold[0]))
        accepted = sum(1 for r in runs["image-cold"] if r.get("module_digest") == "sha256:" + r.get("module_sha256", ""))
        out.append(f"- **Cold image** (a byte-distinct ring.wasm each time: a custom section with 16 random bytes "
                   f"appended, pushed by oras before the timing; the host ran {accepted} of "
                   f"{len(runs['image-cold'])}, its status naming the pushed module's digest): {ms(first['image-cold'])}. Medians of each step ({len(cold)} "
                   f"repetitions), from the host's log (millisecond timestamps) and the times its module store and "
                   f"artifact cache wrote their files: {parts}.")
    if runs["path-kubectl"] and first["path"]:
        kubectl = summary([r["create_s"] for r in runs["path-kubectl"]])
        out.append(f"- **With kubectl:** {ms(first['path-kubectl'])}, "
                   f"{(first['path-kubectl']['median'] - first['path']['median']) * 1e3:.0f} ms more than the POST "
                   f"alone; `kubectl apply` itself ran {ms(kubectl)} (process start, discovery, a GET and the "
                   f"create; kubectl {doc['settings']['kubectl'].split(': ')[-1]}).")
    errors = [r for r in doc["apply"] if r.get("error")]
    if errors:
        out.append(f"- **Failed repetitions:** {len(errors)}: " +
                   "; ".join(f"{r['label']}: {r['error']}" for r in errors[:5]))
    return out


def upgrade_section(doc):
    st = doc["settings"]["upgrade"]
    up = doc["upgrade"]
    rows, limits = delay_table(doc)
    ups = per_upgrade(doc, limits["operator_1"])
    check = up["check"]
    base_over = next(r[6] for r in rows if r[0] == "operator_1" and r[1] == "baseline")
    up_over = next(r[6] for r in rows if r[0] == "operator_1" and r[1] == "upgrade")
    lines = ["", "## Upgrade under load", "",
             f"A ring of {st['operators']} WasmOperators (ring.wasm from a path), the driver writing a new nonce into "
             f"one of {st['keys']} keys of the first namespace, round robin, {st['writes_per_s']:g} writes per second "
             f"without waiting for the copies (about {2 * st['writes_per_s']:g} writes per second by the host, "
             f"under its client limit of {doc['settings']['host_defaults'].get('qps')} QPS). After "
             f"{st['warmup_s']:g} s of load, {st['upgrades']} upgrade segments and {st['baseline_segments']} "
             f"baseline segments of {st['segment_s']:g} s each, in shuffled order: an upgrade segment starts "
             f"with a new generation of operator 1 ({st['new_module']}, so the host compiles it while the old "
             f"version runs, then drains it and starts the new one); a baseline segment changes nothing. A "
             f"round's delay is the time from the key's new nonce showing in the operator's input namespace to "
             f"its copy showing in the output namespace (both from the harness's watch); a round belongs to the "
             f"segment in which its input showed. \"Delayed\" = above the baseline's p99 for that operator.", "",
             "| operator | segments | rounds | p50 ms | p99 ms | max ms | delayed |", "|---|---|---|---|---|---|---|"]
    for operator, kind, n, p50, p99, worst, over in rows:
        who = "1 (upgraded)" if operator == "operator_1" else "0 (not upgraded)"
        lines.append(f"| {who} | {kind} | {n} | {p50:.1f} | {p99:.1f} | {worst:.1f} | {over} |")
    took = summary([u.get("upgraded_log_s") for u in ups])
    compiled = summary([u.get("compiled_s") for u in ups])
    running = summary([u.get("status_running_s") for u in ups])
    delayed = summary([u["delayed"] for u in ups])
    worst = summary([u["worst_ms"] / 1e3 for u in ups if u["worst_ms"] is not None])
    lines += ["",
              f"- **Keys delayed:** {up_over} rounds through the upgraded operator in the upgrade segments exceeded "
              f"the baseline's p99 ({limits['operator_1']:.1f} ms), against {base_over} in the baseline segments "
              f"(the same length of time); per upgrade {delayed['median']:g} median ({delayed['min']:g}-"
              f"{delayed['max']:g}, n = {delayed['n']}) of about {statistics.median(u['rounds'] for u in ups):.0f} "
              f"rounds in its segment, the worst round {ms(worst)}.",
              in_flight_sentence(doc, limits["operator_1"]),
              f"- **The upgrade itself:** from the patch of the spec, the new module compiled after {ms(compiled)}, "
              f"the host logged the upgrade after {ms(took)}, and the status said Running at the new generation "
              f"after {ms(running)}.",
              f"- **Nothing lost:** {check['writes']} writes by the driver; afterwards every key in each namespace "
              f"held its last nonce by GET ({check['lost']} lost), {check['duplicates']} values came back after a "
              f"newer one; the host crashed {len(doc['host_crashes'])} times.",
              ]
    return lines


def headline(doc):
    first = {k: summary([r["first_reconcile_s"] for r in ok_runs(doc, k)]) for k in LABELS}
    cold = [c for c in (steps(r) for r in ok_runs(doc, "image-cold")) if c]
    compile_ms = statistics.median(dict(c)["compile (artifact written)"] for c in cold) * 1e3 if cold else None
    fetch_ms = statistics.median(sum(v for _, v in c[1:4]) for c in cold) * 1e3 if cold else None
    rows, limits = delay_table(doc)
    ups = per_upgrade(doc, limits["operator_1"])
    p99 = {kind: next(r[4] for r in rows if r[0] == "operator_1" and r[1] == kind) for kind in ("baseline", "upgrade")}
    took = summary([u.get("status_running_s") for u in ups])
    delayed = summary([u["delayed"] for u in ups])
    st, up = doc["settings"], doc["settings"]["upgrade"]
    if not all(first[k] for k in ("path", "image-cached", "image-cold")) or not took:
        return ["", "**Headline:** incomplete run; see below."]
    split = f" ({fetch_ms:.0f} ms fetching, {compile_ms:.0f} ms compiling)" if cold else ""
    kubectl = (f"; created with `kubectl apply` instead of a POST, {first['path-kubectl']['median'] * 1e3:.0f} ms"
               if first["path-kubectl"] else "")
    return ["", f"**Headline** (one host at its defaults, control plane and registry on loopback, "
                f"{doc['machine'].split(' (')[0]}, medians of {st['repeats']} runs each): a WasmOperator created "
                f"with a POST reconciles its first object {first['path']['median'] * 1e3:.0f} ms after the "
                f"request when its module is cached (a path), {first['image-cached']['median'] * 1e3:.0f} ms when "
                f"its image was pulled before, and {first['image-cold']['median'] * 1e3:.0f} ms when the image is "
                f"pulled from the registry and compiled{split}{kubectl}. An "
                f"upgrade under load ({up['writes_per_s']:g} writes/s, {len(ups)} upgrades) ran the new version "
                f"{took['median'] * 1e3:.0f} ms after the spec changed and delayed {delayed['median']:g} of the "
                f"upgraded operator's rounds beyond the baseline's p99 (median per upgrade); that operator's p99 "
                f"was {p99['upgrade']:.1f} ms in the upgrade segments against {p99['baseline']:.1f} ms without "
                f"upgrades; {doc['upgrade']['check']['lost']} updates lost."]


def in_flight_sentence(doc, limit):
    rounds = in_flight(doc)
    drift = baseline_segment_medians(doc)
    text = (f"- **While an upgrade was in flight** (from the patch to the status saying Running, the new module "
            f"compiled meanwhile): {len(rounds)} rounds arrived, ")
    if rounds:
        text += (f"p50 {percentile(rounds, 50):.1f} ms, max {max(rounds):.1f} ms, "
                 f"{sum(1 for v in rounds if v > limit)} above the baseline's p99.")
    if drift:
        text += (f" For scale: the median delay of single baseline segments ranged from {min(drift):.1f} to "
                 f"{max(drift):.1f} ms over the run (it drifts over tens of seconds with no upgrade, as the plot "
                 f"shows; the segments' shuffled order spreads that over both kinds).")
    return text


def pointers(doc):
    """What the split suggests, for whoever optimises next (figures above, code named here)."""
    cold = [c for c in (steps(r) for r in ok_runs(doc, "image-cold")) if c]
    lines = ["", "## What the figures point at", ""]
    if cold:
        runs = ok_runs(doc, "image-cold")
        requests = statistics.median(len(r.get("registry_requests", [])) for r in runs)
        challenged = sum(1 for r in runs if registry_mark(r, "manifest", 401) is not None)
        not_pull = ("controller picks the object up", "compile (artifact written)", "load and start",
                    "caches synced, reconcile, copy seen")
        pull = statistics.median(sum(t for name, t in c if name not in not_pull) for c in cold) * 1e3
        compile_ms = statistics.median(dict(c)["compile (artifact written)"] for c in cold) * 1e3
        lines.append(
            f"- **A cold pull** made {requests:.0f} registry requests (median; {challenged} of {len(runs)} pulls "
            f"met a 401 challenge) and took {pull:.0f} ms from the pull Secret's read to the module stored, "
            f"against {compile_ms:.0f} ms compiling it (medians). `fetch::OciPuller` sends known pull "
            f"credentials with its first request and keeps one curl handle per pull (`fetch::HttpsSession`), "
            f"so the manifest and the layer share one TLS connection.")
    lines.append(
        "- **The cached path's slow mode** (above) is in the operator's start, not in the API server's lists or "
        "watches: LISTs and watch starts of TestResources timed alone against the same test control plane, with and "
        "without writes to other resources racing them, showed no such step, and the host's "
        "`rest_client_requests_total` counted no failed request (so no client retry) but the status patches of "
        "deleted objects (404). A run with `--log-level debug` (not part of this benchmark: the ring operator logs at debug after "
        "its create returns) put the wait before the operator's create returned. Its cause is not found yet.")
    return lines


def write(doc, path, plot_path):
    plot(doc, plot_path)
    lines = header(doc) + headline(doc) + apply_section(doc) + upgrade_section(doc) + pointers(doc)
    lines += ["", "![apply and upgrade](api.png)", "", "Per upgrade, as measured:", "",
              "| segment | generation | compiled after s | upgraded (log) after s | Running after s | rounds | delayed | worst ms |",
              "|---|---|---|---|---|---|---|---|"]
    _, limits = delay_table(doc)
    for u in per_upgrade(doc, limits["operator_1"]):
        f = lambda v: f"{v:.2f}" if v is not None else "-"  # noqa: E731
        lines.append(f"| {u['index']} | {u['generation']} | {f(u.get('compiled_s'))} | {f(u.get('upgraded_log_s'))} | "
                     f"{f(u.get('status_running_s'))} | {u['rounds']} | {u['delayed']} | {f(u['worst_ms'])} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
