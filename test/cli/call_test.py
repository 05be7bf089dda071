#!/usr/bin/env python3
"""The host binary runs a C++ guest compiled to wasm32-wasi through Wasmtime: a Kubernetes
object goes in as JSON and comes back re-serialised with the guest's annotation; malformed
input and a module that is not Wasm fail with a one-line reason and exit 1."""
import json
import os
import subprocess
import sys
import tempfile

binary, module = sys.argv[1], sys.argv[2]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def call(stdin, module_path=module):
    return subprocess.run([binary, "call", "--module", module_path, "--export", "roundtrip"],
                          input=stdin.encode(), capture_output=True, timeout=60)


deployment = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "annotations": {"team": "payments"}},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
}
result = call(json.dumps(deployment))
check("round trip exits 0", result.returncode == 0, result.stderr.decode())
if result.returncode == 0:
    expected = json.loads(json.dumps(deployment))
    expected["metadata"]["annotations"]["wasm-operator.dev/seen-by"] = "json-roundtrip"
    check("round trip output", json.loads(result.stdout) == expected, result.stdout.decode())

result = call('{"kind": ')
check("malformed JSON exits 1", result.returncode == 1, result.returncode)
check("malformed JSON reason", b"input is not valid JSON" in result.stderr, result.stderr.decode())

with tempfile.NamedTemporaryFile(suffix=".wasm", delete=False) as f:
    f.write(b"#!/bin/sh\necho not wasm\n")
try:
    result = call("{}", f.name)
    check("non-wasm module exits 1", result.returncode == 1, result.returncode)
    lines = result.stderr.decode().strip().splitlines()
    check("non-wasm module: one line naming the file",
          len(lines) == 1 and f.name in lines[0] and "not a WebAssembly module" in lines[0],
          result.stderr.decode())
finally:
    os.unlink(f.name)

print(f"{3 + 2 + 2 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
