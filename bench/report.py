"""Shared helpers for benchmark reports: machine description, deps, a control plane, plots."""
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "testenv"))
from deps import read_deps  # noqa: E402,F401


def percentile(values, p):
    """The p-th percentile of values (nearest rank, no interpolation); values must not be empty."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@contextlib.contextmanager
def control_plane(deps):
    """A control plane of the benchmark's own; yields its kubeconfig path; always stopped."""
    plane = tempfile.mkdtemp(prefix="wop-bench-")
    controlplane = os.path.join(ROOT, "testenv", "controlplane.py")
    subprocess.run([sys.executable, controlplane, "start", "--dir", plane, "--bin", deps["WOP_KUBE_BIN"],
                    "--owner-pid", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
    try:
        yield os.path.join(plane, "kubeconfig")
    finally:
        subprocess.run([sys.executable, controlplane, "stop", "--dir", plane])


def git_commit():
    """The checkout's commit when this benchmark process started (report is imported first
    thing), with "+changes" when tracked files other than the benchmarks' own outputs
    (bench/results, docs) differed from it: a harness that saves after each run would otherwise
    mark all its later runs as changed, and edits made while a long benchmark runs (the binaries
    were built before it) would mark the runs that end after them."""
    return _COMMIT_AT_START


def _checkout_commit():
    out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":(exclude)bench/results", ":(exclude)docs"],
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + ("+changes" if dirty else "")


_COMMIT_AT_START = _checkout_commit()


def one_machine(*groups):
    """Whether every run of the groups (lists of result rows with settings) ran on one machine:
    rows are re-run piecemeal, sometimes on another VM, and figures from two are no comparison.
    A row that recorded no machine (written before results named theirs) is on an unknown one."""
    machines = [(r.get("settings") or {}).get("machine") for runs in groups for r in runs]
    return None not in machines and len(set(machines)) == 1


P99_GOAL_RATIO = 1.5  # issue 16 item 5 / issue 17: hop p99 at N = 1,000 against N = 100


def ratio_against_goal(numerators, denominators, limit):
    """A ratio of medians against a goal (<= limit), and every pairing of one run's numerator
    with another's denominator: how far the runs' spread alone moves it. Returns (ratio, lowest
    pairing, highest pairing, verdict); a median ratio on one side of the goal with pairings on
    both is within the noise, and the verdict says so."""
    ratio = statistics.median(numerators) / statistics.median(denominators)
    pairs = [a / b for a in numerators for b in denominators]
    if max(pairs) <= limit:
        verdict = "met"
    elif min(pairs) > limit:
        verdict = "missed"
    elif ratio > limit:
        verdict = "missed on the medians, within the runs' spread"
    else:
        verdict = "met on the medians only, within the runs' spread"
    return ratio, min(pairs), max(pairs), verdict


def machine_summary():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Linux {platform.release()}"


def write_plot(path, title, labels, values, unit):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bars = ax.barh(labels, values, color=["#4C72B0", "#DD8452", "#55A868", "#C44E52"][: len(values)])
    ax.set_xlabel(unit)
    ax.set_title(title)
    ax.set_xscale("log")
    for bar, value in zip(bars, values):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:,.0f}", va="center")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
