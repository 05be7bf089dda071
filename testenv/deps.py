"""Reads build/deps.cmake (written by scripts/setup.sh): where the pinned dependencies are."""
import os
import re


def read_deps(build):
    deps = {}
    with open(os.path.join(build, "deps.cmake")) as f:
        for line in f:
            m = re.match(r'set\((\w+) "([^"]*)"', line)
            if m:
                deps[m.group(1)] = m.group(2)
    return deps
