#!/usr/bin/env python3
"""Every command of the host binary answers --help (and `help COMMAND`) with its usage on
standard output and exit status 0; unknown commands and flags still fail with exit 1."""
import subprocess
import sys

binary = sys.argv[1]
failures = 0
checks = 0


def check(name, ok, detail=""):
    global failures, checks
    checks += 1
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def run(*args):
    return subprocess.run([binary, *args], capture_output=True, timeout=60)


# What each command's help must mention: its own usage line and its flags.
expected = {
    "run": [b"usage: wasm-operator run", b"--operators", b"--kubeconfig", b"--swap-idle-ms"],
    "call": [b"usage: wasm-operator call", b"--module", b"--export", b"--timeout-ms"],
    "version": [b"usage: wasm-operator version"],
}
for command, words in expected.items():
    for args in ([command, "--help"], [command, "-h"], ["help", command],
                 [command, "--operators", "x", "--help"] if command == "run" else [command, "--help"]):
        result = run(*args)
        name = " ".join(args)
        check(f"{name}: exit 0", result.returncode == 0, result.stderr.decode())
        check(f"{name}: usage on stdout", all(w in result.stdout for w in words),
              result.stdout.decode())

for args in (["--help"], ["help"], ["-h"]):
    result = run(*args)
    name = " ".join(args)
    check(f"{name}: exit 0", result.returncode == 0, result.stderr.decode())
    check(f"{name}: lists every command",
          all(b"wasm-operator " + c.encode() in result.stdout for c in expected),
          result.stdout.decode())

result = run("frobnicate", "--help")
check("unknown command --help: exit 1", result.returncode == 1, result.returncode)
check("unknown command --help: names it", b"unknown command frobnicate" in result.stderr,
      result.stderr.decode())
result = run("run", "--operators")
check("flag without value: exit 1", result.returncode == 1, result.returncode)
check("flag without value: run's usage", b"usage: wasm-operator run" in result.stderr,
      result.stderr.decode())

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
