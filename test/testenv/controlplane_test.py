#!/usr/bin/env python3
"""Tests of testenv/controlplane.py itself: clear one-line failures (missing binary, port in
use, a component that dies or never becomes ready), restart of the API server alone (and an
outage: stop, then start), etcd
compaction, and the watchdog that removes everything when the owning process dies.

  controlplane_test.py BIN_DIR
"""
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTROLPLANE = os.path.join(ROOT, "testenv", "controlplane.py")
BIN = sys.argv[1]
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if ok:
        passed += 1
    else:
        failed += 1


def cp(*args, env=None, timeout=240):
    return subprocess.run([sys.executable, CONTROLPLANE] + list(args), capture_output=True,
                          text=True, env=env, timeout=timeout)


def one_line_error(result, text):
    lines = result.stderr.strip().splitlines()
    return result.returncode != 0 and len(lines) == 1 and text in lines[0]


def fake_bin(folder, apiserver_script):
    """A bin folder with the real etcd, controller manager and kubectl but a fake apiserver."""
    os.makedirs(folder)
    for name in ("etcd", "kube-controller-manager", "kubectl"):
        os.symlink(os.path.join(BIN, name), os.path.join(folder, name))
    path = os.path.join(folder, "kube-apiserver")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + apiserver_script)
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return folder


def no_process_uses(folder):
    out = subprocess.run(["pgrep", "-af", folder], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if "pgrep" not in l and "controlplane_test" not in l]


work = tempfile.mkdtemp(prefix="wop-cp-test-")

# 1. A missing binary is named.
result = cp("start", "--dir", os.path.join(work, "a"), "--bin", os.path.join(work, "nothing"))
check("missing binary: one-line error naming it", one_line_error(result, "etcd not found"), result.stderr)

# 2. A taken port is named, before anything starts.
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    env = dict(os.environ, WOP_APISERVER_PORT=str(port))
    started = time.monotonic()
    result = cp("start", "--dir", os.path.join(work, "b"), "--bin", BIN, env=env)
    check("port in use: one-line error naming the port",
          one_line_error(result, f"port {port} for kube-apiserver is already in use"), result.stderr)
    check("port in use: fails fast", time.monotonic() - started < 10)

# 3. An API server that dies during start-up: its exit is reported, etcd is cleaned up.
d = os.path.join(work, "c")
result = cp("start", "--dir", d, "--bin", fake_bin(os.path.join(work, "bin-dies"), "echo boom: bad flag >&2; exit 3\n"))
check("dying apiserver: one-line error with its output",
      one_line_error(result, "kube-apiserver exited during start-up") and "boom" in result.stderr, result.stderr)
check("dying apiserver: state folder removed", not os.path.exists(d))
check("dying apiserver: no process left", not no_process_uses(d), no_process_uses(d))

# 4. An API server that never becomes ready: a timeout, not a hang.
d = os.path.join(work, "d")
env = dict(os.environ, WOP_CONTROLPLANE_READY_TIMEOUT="3")
result = cp("start", "--dir", d, "--bin", fake_bin(os.path.join(work, "bin-hangs"), "exec sleep 600\n"), env=env)
check("silent apiserver: one-line timeout", one_line_error(result, "kube-apiserver not ready after 3 s"), result.stderr)
check("silent apiserver: no process left", not no_process_uses(d), no_process_uses(d))

# 5. A real control plane: restart the API server alone, compact etcd, and the watchdog.
d = os.path.join(work, "e")
owner = subprocess.Popen(["sleep", "600"])
result = cp("start", "--dir", d, "--bin", BIN, "--owner-pid", str(owner.pid))
check("start: prints the kubeconfig", result.returncode == 0 and result.stdout.strip() == os.path.join(d, "kubeconfig"), result.stderr)
if result.returncode == 0:
    check("status: ready", cp("status", "--dir", d).stdout.strip() == "ready")
    before = cp("compact", "--dir", d)
    check("compact: prints the revision", before.returncode == 0 and before.stdout.strip().isdigit(), before.stderr)
    started = time.monotonic()
    result = cp("restart-apiserver", "--dir", d)
    check("restart-apiserver", result.returncode == 0, result.stderr)
    print(f"     (restart took {time.monotonic() - started:.1f} s)")
    check("status after restart: ready", cp("status", "--dir", d).stdout.strip() == "ready")
    result = cp("stop-apiserver", "--dir", d)
    check("stop-apiserver", result.returncode == 0, result.stderr)
    down = cp("status", "--dir", d)
    check("status while stopped: not ready, one line", one_line_error(down, "kube-apiserver not ready"),
          down.stderr)
    check("start-apiserver", cp("start-apiserver", "--dir", d).returncode == 0)
    check("status after start: ready", cp("status", "--dir", d).stdout.strip() == "ready")
    again = cp("start-apiserver", "--dir", d)
    check("start-apiserver twice: refused", one_line_error(again, "running already"), again.stderr)
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (os.path.exists(d) or no_process_uses(d)):
        time.sleep(0.5)
    check("watchdog: owner gone -> folder removed", not os.path.exists(d))
    check("watchdog: owner gone -> no process left", not no_process_uses(d), no_process_uses(d))
else:
    owner.kill()
cp("stop", "--dir", d)

subprocess.run(["rm", "-rf", work])
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
