#!/usr/bin/env python3
"""Smoke test of `make bench-swap`'s modes that run operators against a control plane (the
benchmark itself is not part of the suite): swap_bench latency, swapped out and resident, and
memory, each briefly on the fixture's control plane. Every mode must finish and report what the
swap report reads. (They had all stopped with "no ServiceAccount and not trusted" since the
host began refusing such operators, and nothing in the suite ran them.)

  swap_smoke_test.py SOURCE_DIR SWAP_BENCH WASM_DIR   (WOP_TESTENV_DIR: the fixture's control plane)
"""
import json
import os
import subprocess
import sys
import tempfile

source, swap_bench, wasm_dir = sys.argv[1:4]
kubeconfig = os.path.join(os.environ["WOP_TESTENV_DIR"], "kubeconfig")


def run(scratch, *args):
    common = ["--source-dir", source, "--artifacts", os.path.join(scratch, "artifacts"),
              "--snapshot-dir", os.path.join(scratch, "snapshots"), "--wasm-dir", wasm_dir,
              "--kubeconfig", kubeconfig]
    out = subprocess.run([swap_bench, *args, *common], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, (args, out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


with tempfile.TemporaryDirectory() as scratch:
    os.makedirs(os.path.join(scratch, "artifacts"))
    resident = run(scratch, "latency", "--swap", "off", "--changes", "3")
    assert resident["change_to_reconcile_ms"]["resident"]["n"] == 3, resident
    swapped = run(scratch, "latency", "--swap", "on", "--predict", "off", "--idle-ms", "50", "--changes", "3")
    assert swapped["change_to_reconcile_ms"]["swapped"]["n"] == 3, swapped
    memory = run(scratch, "memory", "--idle-ms", "200", "--predict", "off", "--operators", "3", "--swap", "on",
                 "--marginal", "2")
    idle = memory["idle"]
    assert idle["swapped_out"] == 3 and idle["trimmed"]["heap_in_use"] > 0, idle
    assert memory["marginal"]["added"] == 2, memory["marginal"]
print("swap benchmark modes on a control plane: ok")
