#!/usr/bin/env python3
"""`go vet` and gofmt of bench/linecount/replicator-go: the controller-runtime replicator that count.py
measures must still compile, or its line count means nothing. Exits 77 (skipped) without Go.
Uses the user's Go build and module caches (warm after the first run; a cold run compiles
client-go and controller-runtime, a few minutes on two cores).
"""
import os
import shutil
import subprocess
import sys

MODULE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "replicator-go")


def main():
    go = shutil.which("go")
    if go is None:
        print("go not found: skipped")
        return 77
    env = dict(os.environ, GOFLAGS="-mod=readonly -buildvcs=false")
    # vet type-checks the whole program (what a build would refuse, it refuses), without
    # linking a 50 MB binary.
    print(f"+ go vet ./...  (in {MODULE})", flush=True)
    if subprocess.run([go, "vet", "./..."], cwd=MODULE, env=env).returncode != 0:
        return 1
    unformatted = subprocess.run(["gofmt", "-l", "."], cwd=MODULE, capture_output=True,
                                 text=True).stdout.strip()
    if unformatted:
        print(f"FAIL: not gofmt-formatted: {unformatted}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
