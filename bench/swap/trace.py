"""Event traces (../shared/data/traces/traces_N.csv: a header line, then one ISO-8601 UTC
timestamp a line) for replay tools; bench/swap/trace.h reads the same files in C++.

    from trace import read_trace, schedule
    offsets = read_trace(path)            # seconds since the first event, in order
    for at in schedule(offsets, speedup=10):
        ...  # at: seconds from the start of the replay at which to make the change

A speed-up divides the trace's gaps only; durations of the system under test (idle period,
restore and swap-out costs) are not scaled by it, so a replay at speed-up S measures events
S times as frequent (see the top of bench/swap/replay_traces.cc).
"""
import datetime
import os
import sys

# The repository's copy of ../shared/data/traces (bench/traces/README.md).
DEFAULT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "traces")


def parse_timestamp(text):
    """Seconds since the Unix epoch of "YYYY-MM-DDTHH:MM:SS[.fraction]Z"; ValueError if not."""
    text = text.strip()
    if not text.endswith("Z"):
        raise ValueError(f"not an ISO-8601 UTC timestamp: {text!r}")
    moment = datetime.datetime.fromisoformat(text[:-1]).replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def read_trace(path):
    """The trace's events as seconds since its first event; ValueError on a bad line."""
    with open(path) as f:
        lines = [line for line in f.read().splitlines()[1:] if line.strip()]
    stamps = [parse_timestamp(line) for line in lines]
    if len(stamps) < 2 or any(b < a for a, b in zip(stamps, stamps[1:])):
        raise ValueError(f"{path}: fewer than two events, or out of order")
    return [at - stamps[0] for at in stamps]


def schedule(offsets, speedup=1.0):
    """The offsets with their gaps divided by speedup."""
    return [at / speedup for at in offsets]


def trace_paths(directory=DEFAULT_DIR, intervals=(5, 10, 60)):
    return [os.path.join(directory, f"traces_{n}.csv") for n in intervals]


if __name__ == "__main__":
    for path in sys.argv[1:] or trace_paths():
        offsets = read_trace(path)
        gaps = [b - a for a, b in zip(offsets, offsets[1:])]
        mean = sum(gaps) / len(gaps)
        sd = (sum((g - mean) ** 2 for g in gaps) / len(gaps)) ** 0.5
        print(f"{os.path.basename(path)}: {len(offsets)} events, mean gap {mean:.3f} s, sd {sd:.3f} s")
