#!/usr/bin/env python3
"""Unit test of bench/ring/own_part.py (each setup's own part of a hop) on files written here:
client-go's samples count only when their event came in the measured window, a process that
wrote garbage gives no figure, and the host's part is the difference between the first status
written at or after the window's start (not an older one) and the status read after it.

  own_part_test.py SOURCE_DIR
"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(sys.argv[1], "bench"))
sys.path.insert(0, os.path.join(sys.argv[1], "bench", "ring"))
import own_part  # noqa: E402

MS = 1_000_000  # ns


def latency(resident_ms):
    """A wakeLatency with one bucket per whole ms up to 10 ms, holding these resident wake-ups."""
    bounds = [float(b) for b in range(1, 11)]
    cumulative = [sum(1 for v in resident_ms if v <= b) for b in bounds]
    # Each reconcile started a third of the way in (rounded down to whole ms, so the bucket at 1 ms).
    started = [sum(1 for v in resident_ms if max(1, v // 3) <= b) for b in bounds]
    # And its worker's slice began a sixth of the way in.
    worker = [sum(1 for v in resident_ms if max(1, v // 6) <= b) for b in bounds]
    zeros = [0] * len(bounds)
    empty = {"count": 0, "cumulative": zeros, "startedCount": 0, "startedCumulative": zeros,
             "workerCount": 0, "workerCumulative": zeros}
    return {"upperBoundsMs": bounds,
            "resident": {"count": len(resident_ms), "cumulative": cumulative,
                         "startedCount": len(resident_ms), "startedCumulative": started,
                         "workerCount": len(resident_ms), "workerCumulative": worker},
            "prefetched": empty, "restored": empty}


def write_status(path, resident_ms, written_ns):
    with open(path + ".tmp", "w") as f:
        json.dump({"operators": [], "wakeLatency": latency(resident_ms)}, f)
    os.utime(path + ".tmp", ns=(written_ns, written_ns))  # before the rename: the poller sees only this time
    os.rename(path + ".tmp", path)


with tempfile.TemporaryDirectory() as tmp:
    # client-go: events before, inside and after [1000 ms, 2000 ms].
    a, b = os.path.join(tmp, "own-part-0.txt"), os.path.join(tmp, "own-part-1.txt")
    with open(a, "w") as f:
        f.write(f"{900 * MS} {50 * MS}\n{1000 * MS} {1 * MS}\n{1500 * MS} {3 * MS}\n")
    with open(b, "w") as f:
        f.write(f"{2000 * MS} {2 * MS}\n{2001 * MS} {70 * MS}\n")
    part = own_part.from_files([a, b], 1000 * MS, 2000 * MS)
    assert part["all"] == {"count": 3, "p50_ms": 2.0, "p99_ms": 3.0}, part
    assert own_part.from_files([a, b], 3000 * MS, 4000 * MS) is None, "no sample in the window"
    with open(b, "a") as f:
        f.write("not a sample\n")
    assert own_part.from_files([a, b], 1000 * MS, 2000 * MS) is None, "a garbled file gives no figure"

    # The host: a status older than the window is never the first; the one written in it is.
    status = os.path.join(tmp, "status.json")
    start = time.time_ns()
    write_status(status, [1.5] * 10, start - 500 * MS)  # warm-up wake-ups, written before the window
    first = own_part.FirstStatusAfter(status, start, poll_s=0.005)
    time.sleep(0.05)
    assert first.latency is None, "a status written before the window was taken"
    write_status(status, [1.5] * 12, start + 100 * MS)  # two more wake-ups, then the host's write
    deadline = time.monotonic() + 5
    while first.latency is None and time.monotonic() < deadline:
        time.sleep(0.01)
    write_status(status, [1.5] * 12 + [9.5] * 4, start + 1100 * MS)  # the window's wake-ups
    part = own_part.from_host(first, own_part.read_latency(status), start + 2000 * MS)
    assert part["all"]["count"] == 4 and part["resident"]["count"] == 4, part
    assert 9 < part["all"]["p50_ms"] <= 10 and part["prefetched"]["p50_ms"] is None, part
    assert part["window_start_after_measured_s"] == 0.1, part
    assert 2 < part["all"]["started_p50_ms"] <= 3, part
    assert 0 < part["all"]["worker_p50_ms"] <= 1, part

    # A first status written only after the window ended measures nothing.
    late = own_part.FirstStatusAfter(status, start + 1000 * MS, poll_s=0.005)
    deadline = time.monotonic() + 5
    while late.latency is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert own_part.from_host(late, own_part.read_latency(status), start + 1050 * MS) is None
print("own_part: ok")
