"""Shared helpers for benchmark reports: machine description, deps, plots."""
import os
import platform
import re


def read_deps(build):
    deps = {}
    with open(os.path.join(build, "deps.cmake")) as f:
        for line in f:
            m = re.match(r'set\((\w+) "([^"]*)"', line)
            if m:
                deps[m.group(1)] = m.group(2)
    return deps


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
