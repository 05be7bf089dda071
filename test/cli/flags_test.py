#!/usr/bin/env python3
"""Both programs that run operators against a cluster (wasm-operator run, and the ring
benchmark's native-ring, which shares its flag declarations) refuse a command line they cannot
accept before connecting anywhere: exit 2 and exactly one line on standard error naming the
program, the flag and the refused text. Failures while running keep exit 1.

usage: flags_test.py WASM_OPERATOR NATIVE_RING"""
import subprocess
import sys

host, native = sys.argv[1], sys.argv[2]
failures = 0
checks = 0


def check(name, ok, detail=""):
    global failures, checks
    checks += 1
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def refused(argv, line):
    """argv must exit 2 with exactly `line` (one line) on stderr and nothing on stdout."""
    result = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    name = " ".join(argv[1:])
    check(f"{name}: exit 2", result.returncode == 2, f"exit {result.returncode}")
    check(f"{name}: one line", result.stderr.decode() == line + "\n" and not result.stdout,
          repr(result.stderr.decode()))


run = [host, "run", "--operators", "/nonexistent"]
refused(run + ["--workers", "abc"], 'wasm-operator run: --workers: "abc" is not a whole number')
refused(run + ["--workers", "0"], 'wasm-operator run: --workers: "0" is out of range (1 to 256)')
refused(run + ["--workers", "12abc"], 'wasm-operator run: --workers: "12abc" is not a whole number')
refused(run + ["--qps", "lots"], 'wasm-operator run: --qps: "lots" is not a number')
refused(run + ["--burst", "0"], 'wasm-operator run: --burst: "0" is out of range (1 to 100000)')
refused(run + ["--swap", "yes"], 'wasm-operator run: --swap: "yes" is not on or off')
refused(run + ["--swap-idle-ms", "2 days"],
        'wasm-operator run: --swap-idle-ms: "2 days" is not a duration '
        '(milliseconds, or a whole number with ms, s, m or h)')
refused(run + ["--frobnicate", "1"],
        "wasm-operator run: --frobnicate: unknown flag (see wasm-operator run --help)")
refused(run + ["--workers", "2", "--workers", "3"], "wasm-operator run: --workers: given more than once")
refused(run + ["--workers"], "wasm-operator run: --workers: missing value (--workers N)")
refused(run + ["extra"], 'wasm-operator run: "extra" is not a flag (flags start with --)')
refused(run + ["--guest-memory-reservation-mib", "4097"],
        'wasm-operator run: --guest-memory-reservation-mib: "4097" is out of range (0 to 4096)')
refused([host, "run", "--shards", "0"], 'wasm-operator run: --shards: "0" is out of range (1 to 256)')
refused([host, "call", "--module", "m.wasm"], "wasm-operator call: --export: required, not given")
refused([host, "call", "--module", "m.wasm", "--export", "f", "--max-memory-mib", "5000"],
        'wasm-operator call: --max-memory-mib: "5000" is out of range (1 to 4096)')
refused([host, "version", "--verbose", "1"],
        "wasm-operator version: --verbose: unknown flag (see wasm-operator version --help)")

# Well-formed flags get past parsing: a missing definitions file is a failure while running.
result = subprocess.run(run + ["--workers", "4", "--qps", "-1", "--swap-idle-ms", "0"],
                        capture_output=True, timeout=60)
check("valid flags, missing definitions: exit 1", result.returncode == 1, result.returncode)
check("valid flags, missing definitions: names the file", b"/nonexistent" in result.stderr,
      result.stderr.decode())

# native-ring: the same declarations, its own program name.
refused([native, "--ring", "3", "--workers", "abc"], 'native-ring: --workers: "abc" is not a whole number')
refused([native, "--ring", "0"], 'native-ring: --ring: "0" is out of range (1 to 10000)')
refused([native, "--ring", "3", "--frobnicate", "1"],
        "native-ring: --frobnicate: unknown flag (see native-ring --help)")
refused([native, "--ring", "3", "--input-namespace", "a"],
        "native-ring: --ring excludes --input-namespace/--output-namespace")
refused([native, "--input-namespace", "a"],
        "native-ring: needs --ring N, or --input-namespace and --output-namespace")
result = subprocess.run([native, "--help"], capture_output=True, timeout=60)
check("native-ring --help: exit 0", result.returncode == 0, result.returncode)
# bench/ring/setups.py looks for --qps there before passing the rate flags.
check("native-ring --help: the cluster flags with their bounds",
      all(w in result.stdout for w in (b"usage: native-ring", b"--ring N", b"--kubeconfig K",
                                        b"--qps Q", b"--burst B", b"(1 to 256, default 2)")),
      result.stdout.decode())

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
