"""The host's own part of wake-ups, from its status file (--status-file): "wakeLatency" holds
cumulative histograms (5% buckets, runtime/wake_latency_recorder.h) of the time from the informer
event that queued a key to the return of the reconcile entry it woke, by how the change found its
operator: resident, prefetched (restored ahead of it by a prediction) or restored (on the way to
the reconcile). The API server's part (before the event reaches the host, and the writes the
reconcile issued) is not in it, so it tells the host's latency apart from the control plane's; a
guest that awaits its write finishes the reconcile in a later entry, which is not in it either."""

KINDS = ("resident", "prefetched", "restored")


def _counts(status_latency, kind, size, prefix=""):
    """(cumulative counts, count) of kind; prefix "started" for the start of the reconcile,
    "worker" for the start of the worker's slice that ran it."""
    if not status_latency:
        return [0] * size, 0
    entry = status_latency[kind]
    if prefix:
        return entry.get(prefix + "Cumulative", [0] * size), entry.get(prefix + "Count", 0)
    return entry["cumulative"], entry["count"]


def quantile(bounds, cumulative, count, q):
    """The q-quantile (ms), interpolated within the bucket that holds it, as Prometheus'
    histogram_quantile does; None without observations."""
    if count <= 0:
        return None
    rank = q * count
    for i, c in enumerate(cumulative):
        if c >= rank:
            lower = bounds[i - 1] if i > 0 else 0.0
            below = cumulative[i - 1] if i > 0 else 0
            return lower + (bounds[i] - lower) * (rank - below) / (c - below) if c > below else bounds[i]
    return bounds[-1]  # above the last bound (10 s)


def _stage(before, after, bounds, prefix):
    per_kind = {}
    for kind in KINDS:
        a, na = _counts(after, kind, len(bounds), prefix)
        b, nb = _counts(before, kind, len(bounds), prefix)
        per_kind[kind] = ([x - y for x, y in zip(a, b)], na - nb)
    per_kind["all"] = ([sum(per_kind[k][0][i] for k in KINDS) for i in range(len(bounds))],
                       sum(per_kind[k][1] for k in KINDS))
    return per_kind


def between(before, after):
    """{kind or "all": {"count", "p50_ms", "p99_ms"}} of the wake-ups reconciled between two reads
    of the status file (before may be None: since the host started); None if the host wrote none.
    Hosts that also record the start of each reconcile add "started_p50_ms" and "started_p99_ms":
    the time before the reconcile entry ran (the wait for a worker, a restore on the way); those
    that record the start of the worker's slice that ran it add "worker_p50_ms" and
    "worker_p99_ms": the wait for a worker alone."""
    if not after:
        return None
    bounds = after["upperBoundsMs"]
    returned = _stage(before, after, bounds, "")
    started = _stage(before, after, bounds, "started") if "startedCount" in after[KINDS[0]] else None
    worker = _stage(before, after, bounds, "worker") if "workerCount" in after[KINDS[0]] else None
    out = {}
    for kind, (cumulative, count) in returned.items():
        out[kind] = {"count": count,
                     "p50_ms": quantile(bounds, cumulative, count, 0.5),
                     "p99_ms": quantile(bounds, cumulative, count, 0.99)}
        if started:
            cumulative, count = started[kind]
            out[kind]["started_p50_ms"] = quantile(bounds, cumulative, count, 0.5)
            out[kind]["started_p99_ms"] = quantile(bounds, cumulative, count, 0.99)
        if worker:
            cumulative, count = worker[kind]
            out[kind]["worker_p50_ms"] = quantile(bounds, cumulative, count, 0.5)
            out[kind]["worker_p99_ms"] = quantile(bounds, cumulative, count, 0.99)
    return out
