#!/usr/bin/env python3
"""Every command of the host binary answers --help (and `help COMMAND`) with its usage on
standard output and exit status 0, generated from the flags' declarations (bounds and
defaults included); an unknown command or a flag without its value is a usage error: exit 2
(flags_test.py checks every refusal)."""
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
    "run": [b"usage: wasm-operator run [flags]", b"--operators",
            b"--kubeconfig", b"--context", b"--artifact-dir", b"--status-file", b"--swap-dir",
            b"--swap-idle-ms", b"--swap on|off", b"--swap-predict on|off",
            b"--guest-memory-reservation-mib N",
            b"threads running guest code (1 to 256, default 2)", b"--qps Q", b"--burst B"],
    "call": [b"usage: wasm-operator call --module M.wasm --export NAME [flags]", b"--module",
             b"--export", b"--timeout-ms", b"--max-memory-mib"],
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
check("unknown command --help: exit 2", result.returncode == 2, result.returncode)
check("unknown command --help: names it", b"unknown command frobnicate" in result.stderr,
      result.stderr.decode())
result = run("run", "--operators")
check("flag without value: exit 2", result.returncode == 2, result.returncode)
check("flag without value: one line naming it",
      result.stderr == b"wasm-operator run: --operators: missing value (--operators FILE_OR_FOLDER)\n",
      result.stderr.decode())

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
