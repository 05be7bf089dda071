#!/usr/bin/env python3
"""A real, local Kubernetes control plane for tests, the demo and the benchmarks.

Starts etcd, kube-apiserver and kube-controller-manager on loopback with free ports, TLS
from a generated CA, RBAC, ServiceAccount token signing and an admin client certificate, and
writes a kubeconfig. Everything lives in one state folder; `stop` ends every process and
removes the folder.

  controlplane.py start   --dir D [--bin B] [--owner-pid P|parent] [--replace]   start; print kubeconfig path
  controlplane.py stop    --dir D                              stop and remove D
  controlplane.py status  --dir D                              exit 0 if the API server is ready
  controlplane.py restart-apiserver --dir D                    restart kube-apiserver alone
  controlplane.py stop-apiserver --dir D                       stop kube-apiserver alone (an outage)
  controlplane.py start-apiserver --dir D                      start it again; wait until ready
  controlplane.py compact --dir D                              compact etcd to its newest revision

With --owner-pid, a watchdog stops the control plane when that process exits, so a crashed
or killed test run leaves nothing behind.

Files in D: kubeconfig (admin), kubeconfig-unprivileged (a user with no RBAC rights),
pki/ (ca.crt, admin.crt/.key, unprivileged.crt/.key, ...), state.json, logs/.
Errors are one line on stderr and a non-zero exit, never a hang.
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

# How long each component may take to become ready (overridable for tests of this script).
READY_TIMEOUT_S = int(os.environ.get("WOP_CONTROLPLANE_READY_TIMEOUT", "90"))
STOP_TIMEOUT_S = 15
# kube-apiserver drains for up to a minute on SIGTERM; a test control plane has nothing worth
# draining, so the Kubernetes components get a short grace before SIGKILL (etcd the full one).
KUBE_STOP_GRACE_S = 2
SERVICE_CIDR = "10.0.0.0/24"
SERVICE_IP = "10.0.0.1"  # first address of SERVICE_CIDR: the kubernetes Service


class ControlPlaneError(Exception):
    pass


# ---------------------------------------------------------------------------- helpers

def log_path(d, name):
    return os.path.join(d, "logs", name + ".log")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port_free(port, what):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise ControlPlaneError(f"port {port} for {what} is already in use")


def port_from_env(name, what):
    value = os.environ.get(name)
    if not value:
        return free_port()
    if not value.isdigit():
        raise ControlPlaneError(f"{name}={value!r} is not a port number")
    port = int(value)
    check_port_free(port, what)
    return port


def run_openssl(args, cwd):
    result = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ControlPlaneError(f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}")


def make_pki(pki):
    os.makedirs(pki, exist_ok=True)
    run_openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
                 "-out", "ca.crt", "-days", "30", "-subj", "/CN=wasm-operator-test-ca"], pki)

    def issue(name, subject, ext):
        run_openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                     "-out", f"{name}.csr", "-subj", subject], pki)
        with open(os.path.join(pki, f"{name}.ext"), "w") as f:
            f.write(ext)
        run_openssl(["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                     "-CAcreateserial", "-out", f"{name}.crt", "-days", "30",
                     "-extfile", f"{name}.ext"], pki)

    client = "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n"
    issue("apiserver", "/CN=kube-apiserver",
          "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n"
          "subjectAltName=IP:127.0.0.1,IP:" + SERVICE_IP + ",DNS:localhost,DNS:kubernetes,"
          "DNS:kubernetes.default,DNS:kubernetes.default.svc,"
          "DNS:kubernetes.default.svc.cluster.local\n")
    issue("admin", "/O=system:masters/CN=wasm-operator-admin", client)
    issue("controller-manager", "/CN=system:kube-controller-manager", client)
    issue("unprivileged", "/CN=wasm-operator-unprivileged", client)
    # How the API server authenticates to a kubelet (logs, exec, port-forward) of the test node
    # (testenv/node.py), as kubeadm's apiserver-kubelet-client.
    issue("apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client", client)
    # The key that signs ServiceAccount tokens (apiserver) and that the token controller uses.
    run_openssl(["genrsa", "-out", "sa.key", "2048"], pki)
    run_openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], pki)


def write_kubeconfig(path, server, pki, user):
    # JSON is valid YAML, so this is a kubeconfig kubectl and our own parser both read.
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "wasm-operator-test",
                      "cluster": {"server": server,
                                  "certificate-authority": os.path.join(pki, "ca.crt")}}],
        "users": [{"name": user,
                   "user": {"client-certificate": os.path.join(pki, f"{user}.crt"),
                            "client-key": os.path.join(pki, f"{user}.key")}}],
        "contexts": [{"name": user, "context": {"cluster": "wasm-operator-test", "user": user}}],
        "current-context": user,
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def spawn(d, name, argv):
    out = open(log_path(d, name), "ab")
    # A session of its own: a Ctrl-C in the test's terminal does not reach the control plane,
    # and stop() ends the whole group.
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    return proc.pid


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of ours is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def kill_group(pid, timeout=STOP_TIMEOUT_S):
    if not pid or not alive(pid):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except OSError:
            pass
        deadline = time.time() + timeout
        while time.time() < deadline and alive(pid):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        if not alive(pid):
            return


def log_tail(d, name, lines=5):
    try:
        with open(log_path(d, name), errors="replace") as f:
            return " | ".join(l.strip() for l in f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def failure_reason(d, name):
    tail = log_tail(d, name, 40)
    if "address already in use" in tail:
        return f"{name} could not bind its port (address already in use)"
    return f"{name} exited during start-up: {log_tail(d, name)} (log: {log_path(d, name)})"


# ---------------------------------------------------------------------------- state

def load_state(d):
    try:
        with open(os.path.join(d, "state.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        raise ControlPlaneError(f"no control plane in {d} (state.json missing)")


def save_state(d, state):
    tmp = os.path.join(d, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, os.path.join(d, "state.json"))


def find_binaries(bin_dir):
    paths = {}
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl"):
        path = os.path.join(bin_dir, name) if bin_dir else shutil.which(name)
        if not path or not os.access(path, os.X_OK):
            raise ControlPlaneError(
                f"{name} not found in {bin_dir or 'PATH'}; run scripts/setup.sh (or make test), "
                f"which builds it")
        paths[name] = path
    return paths


# ---------------------------------------------------------------------------- readiness

def https_get(state, path, user="admin", timeout=2):
    pki = os.path.join(state["dir"], "pki")
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    ctx.load_cert_chain(os.path.join(pki, f"{user}.crt"), os.path.join(pki, f"{user}.key"))
    url = f"https://127.0.0.1:{state['apiserver_port']}{path}"
    with urllib.request.urlopen(url, context=ctx, timeout=timeout) as response:
        return response.status, response.read()


def wait_until(what, check, pids, d, timeout=READY_TIMEOUT_S):
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        for name, pid in pids.items():
            if not alive(pid):
                raise ControlPlaneError(failure_reason(d, name))
        try:
            if check():
                return
        except Exception as e:  # not ready yet: connection refused, 500, 404, ...
            last = str(e)
        time.sleep(0.2)
    raise ControlPlaneError(f"{what} not ready after {timeout} s (last error: {last})")


def etcd_ready(state):
    url = f"http://127.0.0.1:{state['etcd_port']}/health"
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.loads(r.read()).get("health") == "true"


def apiserver_ready(state):
    status, body = https_get(state, "/readyz")
    return status == 200 and body.strip() == b"ok"


def default_serviceaccount_exists(state):
    # The ServiceAccount controller of kube-controller-manager creates it: proof that the
    # controller manager is up and acting on the cluster.
    status, _ = https_get(state, "/api/v1/namespaces/default/serviceaccounts/default")
    return status == 200


# ---------------------------------------------------------------------------- processes

def etcd_argv(state):
    p = state["etcd_port"]
    peer = state["etcd_peer_port"]
    return [state["bins"]["etcd"], "--name=default",
            "--data-dir=" + os.path.join(state["dir"], "etcd"),
            f"--listen-client-urls=http://127.0.0.1:{p}",
            f"--advertise-client-urls=http://127.0.0.1:{p}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=default=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync=true",  # tests do not need durability across power loss
            "--log-level=warn"]


def apiserver_argv(state):
    pki = os.path.join(state["dir"], "pki")
    return [state["bins"]["kube-apiserver"],
            f"--etcd-servers=http://127.0.0.1:{state['etcd_port']}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={state['apiserver_port']}",
            "--cert-dir=" + os.path.join(state["dir"], "apiserver-certs"),
            "--tls-cert-file=" + os.path.join(pki, "apiserver.crt"),
            "--tls-private-key-file=" + os.path.join(pki, "apiserver.key"),
            "--client-ca-file=" + os.path.join(pki, "ca.crt"),
            "--authorization-mode=RBAC",
            "--service-cluster-ip-range=" + SERVICE_CIDR,
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=" + os.path.join(pki, "sa.pub"),
            "--service-account-signing-key-file=" + os.path.join(pki, "sa.key"),
            "--api-audiences=https://kubernetes.default.svc.cluster.local",
            "--allow-privileged=true", "--profiling=false", "--v=1",
            # For the test node (testenv/node.py): reach its kubelet by the node's InternalIP,
            # verify the kubelet's serving certificate (issued by our CA) and present our own.
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            "--kubelet-certificate-authority=" + os.path.join(pki, "ca.crt"),
            "--kubelet-client-certificate=" + os.path.join(pki, "apiserver-kubelet-client.crt"),
            "--kubelet-client-key=" + os.path.join(pki, "apiserver-kubelet-client.key")]


def controller_manager_argv(state):
    pki = os.path.join(state["dir"], "pki")
    return [state["bins"]["kube-controller-manager"],
            "--kubeconfig=" + os.path.join(state["dir"], "kubeconfig-controller-manager"),
            "--authentication-kubeconfig=" + os.path.join(state["dir"], "kubeconfig-controller-manager"),
            "--authorization-kubeconfig=" + os.path.join(state["dir"], "kubeconfig-controller-manager"),
            "--bind-address=127.0.0.1", f"--secure-port={state['controller_manager_port']}",
            "--cert-dir=" + os.path.join(state["dir"], "controller-manager-certs"),
            "--service-account-private-key-file=" + os.path.join(pki, "sa.key"),
            "--root-ca-file=" + os.path.join(pki, "ca.crt"),
            "--use-service-account-credentials=true",
            "--service-cluster-ip-range=" + SERVICE_CIDR,
            "--leader-elect=false", "--profiling=false", "--v=1"]


def start_watchdog(d, owner_pid):
    # A detached process that stops the control plane once the owner is gone.
    code = ("import os,sys,time,subprocess\n"
            f"owner={owner_pid}\n"
            "def alive(p):\n"
            "    try: os.kill(p,0); return True\n"
            "    except OSError: return False\n"
            "while alive(owner) and os.path.isdir(sys.argv[2]): time.sleep(1)\n"
            "if os.path.isdir(sys.argv[2]):\n"
            "    subprocess.run([sys.executable, sys.argv[1], 'stop', '--dir', sys.argv[2]])\n")
    return subprocess.Popen([sys.executable, "-c", code, os.path.abspath(__file__), d],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True).pid


def start(args):
    d = os.path.abspath(args.dir)
    if args.replace:
        stop(args)
    if os.path.exists(os.path.join(d, "state.json")):
        raise ControlPlaneError(f"a control plane already uses {d}; stop it first")
    owner = None
    if args.owner_pid:
        owner = os.getppid() if args.owner_pid == "parent" else args.owner_pid
        if not str(owner).isdigit():
            raise ControlPlaneError(f"--owner-pid {args.owner_pid!r} is not a pid")
    bins = find_binaries(args.bin)
    if shutil.which("openssl") is None:
        raise ControlPlaneError("openssl not found; run scripts/setup.sh")
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    state = {"dir": d, "bins": bins, "pids": {},
             "etcd_port": port_from_env("WOP_ETCD_PORT", "etcd"),
             "etcd_peer_port": free_port(),
             "apiserver_port": port_from_env("WOP_APISERVER_PORT", "kube-apiserver"),
             "controller_manager_port": free_port()}
    save_state(d, state)
    try:
        if owner:
            state["pids"]["watchdog"] = start_watchdog(d, int(owner))
        pki = os.path.join(d, "pki")
        make_pki(pki)
        server = f"https://127.0.0.1:{state['apiserver_port']}"
        write_kubeconfig(os.path.join(d, "kubeconfig"), server, pki, "admin")
        write_kubeconfig(os.path.join(d, "kubeconfig-unprivileged"), server, pki, "unprivileged")
        write_kubeconfig(os.path.join(d, "kubeconfig-controller-manager"), server, pki,
                         "controller-manager")

        state["pids"]["etcd"] = spawn(d, "etcd", etcd_argv(state))
        save_state(d, state)
        wait_until("etcd", lambda: etcd_ready(state), {"etcd": state["pids"]["etcd"]}, d)

        state["pids"]["kube-apiserver"] = spawn(d, "kube-apiserver", apiserver_argv(state))
        save_state(d, state)
        wait_until("kube-apiserver", lambda: apiserver_ready(state), server_pids(state), d)

        state["pids"]["kube-controller-manager"] = spawn(d, "kube-controller-manager",
                                                         controller_manager_argv(state))
        save_state(d, state)
        wait_until("kube-controller-manager", lambda: default_serviceaccount_exists(state),
                   server_pids(state, with_cm=True), d)
    except BaseException:
        stop_state(state)
        raise
    print(os.path.join(d, "kubeconfig"))


def server_pids(state, with_cm=False):
    names = ["etcd", "kube-apiserver"] + (["kube-controller-manager"] if with_cm else [])
    return {n: state["pids"][n] for n in names if n in state["pids"]}


def stop_state(state):
    order = [("watchdog", STOP_TIMEOUT_S), ("kube-controller-manager", KUBE_STOP_GRACE_S),
             ("kube-apiserver", KUBE_STOP_GRACE_S), ("etcd", STOP_TIMEOUT_S)]
    for name, grace in order:
        if name == "watchdog" and state["pids"].get(name) == os.getppid():
            continue  # the watchdog itself is stopping us
        kill_group(state["pids"].get(name), grace)
    shutil.rmtree(state["dir"], ignore_errors=True)


def stop(args):
    d = os.path.abspath(args.dir)
    if not os.path.exists(os.path.join(d, "state.json")):
        shutil.rmtree(d, ignore_errors=True)
        return
    stop_state(load_state(d))


def status(args):
    state = load_state(os.path.abspath(args.dir))
    try:
        ok = apiserver_ready(state)
    except Exception as e:
        raise ControlPlaneError(f"kube-apiserver not ready: {e}")
    if not ok:
        raise ControlPlaneError("kube-apiserver not ready")
    print("ready")


def stop_apiserver(args):
    # etcd and the controller manager keep running, as in a real API server outage; `stop`
    # and the watchdog still end everything (a stopped API server has no pid left to end).
    d = os.path.abspath(args.dir)
    state = load_state(d)
    kill_group(state["pids"].pop("kube-apiserver", None), KUBE_STOP_GRACE_S)
    save_state(d, state)
    print("stopped")


def start_apiserver(args):
    d = os.path.abspath(args.dir)
    state = load_state(d)
    pid = state["pids"].get("kube-apiserver")
    if pid and alive(pid):
        raise ControlPlaneError(f"kube-apiserver is running already (pid {pid})")
    state["pids"]["kube-apiserver"] = spawn(d, "kube-apiserver", apiserver_argv(state))
    save_state(d, state)
    wait_until("kube-apiserver", lambda: apiserver_ready(state), server_pids(state), d)
    print("started")


def restart_apiserver(args):
    d = os.path.abspath(args.dir)
    state = load_state(d)
    kill_group(state["pids"].get("kube-apiserver"), KUBE_STOP_GRACE_S)
    state["pids"]["kube-apiserver"] = spawn(d, "kube-apiserver", apiserver_argv(state))
    save_state(d, state)
    wait_until("kube-apiserver", lambda: apiserver_ready(state), server_pids(state), d)
    print("restarted")


def etcd_post(state, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{state['etcd_port']}{path}",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def compact(args):
    state = load_state(os.path.abspath(args.dir))
    # etcd's gRPC gateway: read the current revision, then compact everything before it.
    header = etcd_post(state, "/v3/kv/range", {"key": base64.b64encode(b"/").decode()})["header"]
    revision = int(header["revision"])
    etcd_post(state, "/v3/kv/compaction", {"revision": revision, "physical": True})
    print(revision)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status", "restart-apiserver", "stop-apiserver",
                 "start-apiserver", "compact"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True, help="state folder of this control plane")
        if name == "start":
            p.add_argument("--bin", help="folder with etcd, kube-apiserver, ... (default: PATH)")
            p.add_argument("--owner-pid", help="stop when this process exits ('parent': ours)")
            p.add_argument("--replace", action="store_true",
                           help="stop a control plane left in --dir by an earlier run first")
    args = parser.parse_args()
    handlers = {"start": start, "stop": stop, "status": status,
                "restart-apiserver": restart_apiserver, "stop-apiserver": stop_apiserver,
                "start-apiserver": start_apiserver, "compact": compact}
    try:
        handlers[args.command](args)
    except ControlPlaneError as e:
        print(f"controlplane: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("controlplane: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
