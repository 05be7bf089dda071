"""Each setup's own part of a hop over the measured cycles: from the event that queued a key in
the operator's process to the return of the reconcile (entry) that issued its write. The rest of
a hop is the API server's and etcd's (the write, and the watch event that carries it to the next
operator), which the setups share; telling the two apart says whether a latency gap between
setups is ours or the control plane's.

- The wasm host: its status file's wakeLatency histograms (wake_latency.py), read twice: the
  first version the host wrote after the measured cycles began (it rewrites the file about once
  a second, so up to a second of them is left out, never a warm-up wake-up) and one after them
  (the ring is quiet by then). 5% buckets.
- client-go: each process writes one line per hop (event wall time, duration) at exit
  (--own-part-file); exactly the hops whose event came in the measured cycles count.
Other setups do not report it (None)."""
import json
import os
import threading

import wake_latency
from report import percentile


def read_latency(path):
    """The wakeLatency of the host's status file at path; None if it has none or cannot be read."""
    try:
        with open(path) as f:
            return json.load(f).get("wakeLatency")
    except (OSError, ValueError):
        return None


class FirstStatusAfter(threading.Thread):
    """Keeps the wakeLatency of the first status file the host writes at or after since_ns (wall
    clock, as file times are); polls from construction until found or stopped."""

    def __init__(self, path, since_ns, poll_s=0.02):
        super().__init__(daemon=True)
        self.path, self.since_ns, self.poll_s = path, since_ns, poll_s
        self.latency, self.written_ns = None, None
        self._stopping = threading.Event()
        self.start()

    def run(self):
        while not self._stopping.is_set():
            try:
                written = os.stat(self.path).st_mtime_ns
            except OSError:
                written = None  # not yet written
            if written is not None and written >= self.since_ns:
                latency = read_latency(self.path)
                if latency is not None:  # else replaced while read: the next poll reads the new one
                    self.latency, self.written_ns = latency, written
                    return
            self._stopping.wait(self.poll_s)

    def stop(self):
        self._stopping.set()
        self.join(timeout=5)


def from_host(first, after, end_ns):
    """The host's part over [first status write in the measured cycles, their end]; after: the
    wakeLatency of a status read after them. wake_latency.between's {"all" or kind: {"count",
    "p50_ms", "p99_ms"}} and how it was measured; None when the host wrote no wakeLatency (an
    older host) or no status came in the measured cycles."""
    first.stop()
    if first.latency is None or first.written_ns > end_ns:
        return None
    parts = wake_latency.between(first.latency, after)
    if not parts or not parts["all"]["count"]:
        return None
    return {"source": "host status file (wakeLatency, 5% buckets)",
            "window_start_after_measured_s": round((first.written_ns - first.since_ns) / 1e9, 3), **parts}


def from_files(paths, start_ns, end_ns):
    """client-go's part over the hops whose event came in [start_ns, end_ns]; None without samples."""
    durations = []
    for path in paths:
        try:
            with open(path) as f:
                for line in f:
                    event_ns, duration_ns = (int(x) for x in line.split())
                    if start_ns <= event_ns <= end_ns:
                        durations.append(duration_ns / 1e6)
        except (OSError, ValueError):
            return None  # a process that wrote nothing or garbage: no figure rather than a partial one
    if not durations:
        return None
    return {"source": "per-process samples (--own-part-file)",
            "all": {"count": len(durations), "p50_ms": percentile(durations, 50),
                    "p99_ms": percentile(durations, 99)}}
