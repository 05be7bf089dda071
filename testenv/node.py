#!/usr/bin/env python3
"""A real Kubernetes node for tests and benchmarks, joined to a control plane of
testenv/controlplane.py: containerd (Debian's 1.6) with runc, the standard CNI plugins, a
kubelet and a kube-scheduler built from the pinned k8s.io/kubernetes module.

  node.py start --dir D --controlplane C [--bin B] [--images I] [--owner-pid P|parent]
  node.py stop  --dir D          stop everything and restore what the node changed
  node.py status --dir D         exit 0 if the Node is Ready

`start` waits until the Node is Ready. Images are never pulled: every *.oci.tar in --images
(scripts/build-image.sh's output; it must hold localhost/pause:dev, the pod sandbox) is
imported. Pods reach the API server through the `kubernetes` Service (10.0.0.1:443) with TLS
verified: traffic to it from the pod bridge is DNATed to the API server on loopback.

What a node changes on the machine, and `stop` restores (the state file records the before):
sysctls the kubelet and the CNI plugins set, iptables and ip6tables tables, the pod bridge,
mounts under D, the node's cgroups in every v1 hierarchy, and the fixed paths the kubelet and
containerd use (/var/log/containers, /var/lib/kubelet, /var/lib/cni, /run/containerd).
With --owner-pid, a watchdog runs `stop` when that process exits or when the control plane's
folder disappears, so a killed test run leaves nothing behind. kubelet's ports (10250, 10248)
are fixed: one node per machine at a time. Needs root.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane as cp  # noqa: E402

NODE_NAME = "wop-node"
POD_CIDR = "10.244.0.0/24"
BRIDGE = "wop-cni0"
NODE_IP = "10.244.0.1"  # the bridge's address: the Node's InternalIP and the kubelet's
CGROUP_PARENT = "wop-node"  # the kubelet's cgroupRoot, in every v1 hierarchy
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
PAUSE_IMAGE = "localhost/pause:dev"
READY_TIMEOUT_S = 120
SYSCTLS = ["vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops",
           "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes", "net/ipv4/ip_forward",
           "net/ipv4/conf/all/route_localnet", "net/bridge/bridge-nf-call-iptables",
           "net/bridge/bridge-nf-call-ip6tables"]
FIXED_PATHS = ["/var/log/containers", "/var/log/pods", "/var/lib/kubelet", "/var/lib/cni",
               "/run/containerd", "/opt/cni"]
IPTABLES = ["iptables", "ip6tables"]
BUILTIN_CHAINS = {
    "filter": ["INPUT", "FORWARD", "OUTPUT"],
    "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
    "mangle": ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    "raw": ["PREROUTING", "OUTPUT"],
    "security": ["INPUT", "FORWARD", "OUTPUT"],
}


class NodeError(Exception):
    pass


def run(argv, check=True, **kw):
    result = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and result.returncode != 0:
        raise NodeError(f"{' '.join(argv[:4])} failed: {(result.stderr or result.stdout).strip()}")
    return result


# ---------------------------------------------------------------------------- the before

def read_sysctls():
    values = {}
    for name in SYSCTLS:
        try:
            with open("/proc/sys/" + name) as f:
                values[name] = f.read().strip()
        except OSError:
            pass  # e.g. br_netfilter not loaded: nothing to restore
    return values


def save_iptables(d):
    for tool in IPTABLES:
        dump = run([tool + "-save"]).stdout
        with open(os.path.join(d, f"{tool}.before"), "w") as f:
            f.write(dump)


def cgroup_hierarchies():
    """The mount point of every cgroup v1 hierarchy (memory, cpu, ..., name=systemd)."""
    points = []
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[2] == "cgroup":
                points.append(fields[1])
    return points


# ---------------------------------------------------------------------------- restore

def sections(dump):
    """{table: text of its section} of an iptables-save dump."""
    result, table, lines = {}, None, []
    for line in dump.splitlines():
        if line.startswith("*"):
            table, lines = line[1:], [line]
        elif table:
            lines.append(line)
            if line == "COMMIT":
                result[table] = "\n".join(lines)
                table = None
    return result


def restore_iptables(d):
    for tool in IPTABLES:
        path = os.path.join(d, f"{tool}.before")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            before = sections(f.read())
        now = sections(run([tool + "-save"], check=False).stdout)
        # A table the node brought in is restored empty: its builtin chains, policy ACCEPT.
        parts = []
        for table in now:
            if table in before:
                parts.append(before[table])
            else:
                chains = BUILTIN_CHAINS.get(table, [])
                parts.append("\n".join([f"*{table}"] + [f":{c} ACCEPT [0:0]" for c in chains]
                                       + ["COMMIT"]))
        if parts:
            run([tool + "-restore"], input="\n".join(parts) + "\n", check=False)


def restore_sysctls(before):
    for name, value in before.items():
        try:
            with open("/proc/sys/" + name) as f:
                if f.read().strip() == value:
                    continue
            with open("/proc/sys/" + name, "w") as f:
                f.write(value)
        except OSError:
            pass


def unmount_under(prefixes):
    """Unmounts everything mounted at or under one of prefixes, deepest first."""
    for _ in range(3):
        with open("/proc/self/mounts") as f:
            points = [line.split()[1].replace("\\040", " ") for line in f]
        inside = [p for p in points if any(p == x or p.startswith(x.rstrip("/") + "/")
                                           for x in prefixes)]
        if not inside:
            return
        for point in sorted(set(inside), key=len, reverse=True):
            if run(["umount", point], check=False).returncode != 0:
                run(["umount", "-l", point], check=False)


def remove_cgroups(parent):
    """rmdir of parent and every cgroup below it, bottom-up, in every v1 hierarchy. A cgroup
    holding a process cannot go; the processes were killed before."""
    for hierarchy in cgroup_hierarchies():
        top = os.path.join(hierarchy, parent)
        if not os.path.isdir(top):
            continue
        for _ in range(20):
            for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
            if not os.path.isdir(top):
                break
            time.sleep(0.25)


def kill_pods(state):
    """Kills every container of the node's runc (root under D) and removes it."""
    runc_root = os.path.join(state["dir"], "containerd", "runc")
    for namespace_root in [os.path.join(runc_root, n) for n in
                           (os.listdir(runc_root) if os.path.isdir(runc_root) else [])]:
        listed = run(["runc", "--root", namespace_root, "list", "-q"], check=False).stdout.split()
        for container in listed:
            run(["runc", "--root", namespace_root, "kill", container, "KILL"], check=False)
        for container in listed:
            run(["runc", "--root", namespace_root, "delete", "--force", container], check=False)


def shim_pids(state):
    """containerd-shim-runc-v2 processes started by this node's containerd."""
    socket = state["containerd_socket"]
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and socket.encode() in argv:
            pids.append(int(entry))
    return pids


def stop_state(state):
    d = state["dir"]
    pids = state.get("pids", {})
    if pids.get("watchdog") != os.getppid():
        cp.kill_group(pids.get("watchdog"))
    for name in ("kube-scheduler", "kubelet"):
        cp.kill_group(pids.get(name), cp.KUBE_STOP_GRACE_S)
    kill_pods(state)
    for pid in shim_pids(state):
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    cp.kill_group(pids.get("containerd"))
    unmount_under([d] + [p for p in FIXED_PATHS if p not in state.get("fixed_paths_before", [])])
    remove_cgroups(CGROUP_PARENT)
    run(["ip", "link", "delete", BRIDGE], check=False)
    restore_iptables(d)
    restore_sysctls(state.get("sysctls_before", {}))
    for path in FIXED_PATHS:
        if path not in state.get("fixed_paths_before", []):
            shutil.rmtree(path, ignore_errors=True)
    left = leftovers(state)
    # The Node object is the control plane's: it goes with it, or stays NotReady.
    shutil.rmtree(d, ignore_errors=True)
    try:
        os.remove(LOCK)
    except OSError:
        pass
    if left:
        raise NodeError("stopped, but the machine is not as before: " + "; ".join(left))


def normalized_rules(dump):
    """{table: set of chain and rule lines} without counters, leaving out tables that hold
    only builtin chains with policy ACCEPT and no rule (a table that is loaded but empty)."""
    result = {}
    for table, text in sections(dump).items():
        lines = set()
        for line in text.splitlines()[1:-1]:
            if line.startswith(":"):
                name, policy = line[1:].split()[:2]
                if name in BUILTIN_CHAINS.get(table, []) and policy == "ACCEPT":
                    continue
                line = f":{name} {policy}"
            lines.add(line)
        if lines:
            result[table] = lines
    return result


def leftovers(state):
    """What the node changed and stop did not restore; empty when the machine is as before."""
    d, left = state["dir"], []
    now = read_sysctls()
    for name, value in state.get("sysctls_before", {}).items():
        if now.get(name) != value:
            left.append(f"sysctl {name} is {now.get(name)}, was {value}")
    for tool in IPTABLES:
        path = os.path.join(d, f"{tool}.before")
        if os.path.exists(path):
            with open(path) as f:
                before = normalized_rules(f.read())
            after = normalized_rules(run([tool + "-save"], check=False).stdout)
            if before != after:
                left.append(f"{tool} rules differ from before the node")
    if os.path.exists(f"/sys/class/net/{BRIDGE}"):
        left.append(f"the bridge {BRIDGE} remains")
    for hierarchy in cgroup_hierarchies():
        if os.path.isdir(os.path.join(hierarchy, CGROUP_PARENT)):
            left.append(f"cgroup {hierarchy}/{CGROUP_PARENT} remains")
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    for point in points:
        if point == d or point.startswith(d + "/") or any(
                point == p or point.startswith(p + "/") for p in FIXED_PATHS):
            left.append(f"mount {point} remains")
    for path in FIXED_PATHS:
        if path not in state.get("fixed_paths_before", []) and os.path.lexists(path):
            left.append(f"{path} remains")
    for name, pid in state.get("pids", {}).items():
        if name != "watchdog" and cp.alive(pid):
            left.append(f"{name} (pid {pid}) still runs")
    if shim_pids(state):
        left.append(f"containerd shims still run: {shim_pids(state)}")
    return left


# ---------------------------------------------------------------------------- start

LOCK = "/run/wop-node.lock"  # holds the folder of the one node this machine runs


def issue_node_pki(d, controlplane_pki):
    pki = os.path.join(d, "pki")
    os.makedirs(pki, exist_ok=True)
    ca = os.path.join(controlplane_pki, "ca.crt")
    ca_key = os.path.join(controlplane_pki, "ca.key")

    def issue(name, subject, ext):
        cp.run_openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                        "-out", f"{name}.csr", "-subj", subject], pki)
        with open(os.path.join(pki, f"{name}.ext"), "w") as f:
            f.write(ext)
        cp.run_openssl(["x509", "-req", "-in", f"{name}.csr", "-CA", ca, "-CAkey", ca_key,
                        "-CAcreateserial", "-CAserial", os.path.join(pki, "ca.srl"),
                        "-out", f"{name}.crt", "-days", "30", "-extfile", f"{name}.ext"], pki)

    # The kubelet's client identity (the Node authorizer's convention) and its serving
    # certificate, which the API server verifies (--kubelet-certificate-authority).
    issue("node", f"/O=system:nodes/CN=system:node:{NODE_NAME}",
          "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n")
    issue("kubelet-serving", f"/O=system:nodes/CN=system:node:{NODE_NAME}",
          "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n"
          f"subjectAltName=IP:{NODE_IP},DNS:{NODE_NAME}\n")
    shutil.copy(ca, os.path.join(pki, "ca.crt"))
    return pki


def write_containerd_config(state):
    d = os.path.join(state["dir"], "containerd")
    os.makedirs(d, exist_ok=True)
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    config = f"""version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{state['containerd_socket']}"
[ttrpc]
  address = "{state['containerd_socket']}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails to start (runc cannot
  # set oom_score_adj -998).
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [{cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [{cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [{cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{d}/runc"
  [{cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{state['dir']}/cni/net.d"
"""
    path = os.path.join(d, "config.toml")
    with open(path, "w") as f:
        f.write(config)
    return path


def write_cni_config(state):
    net_d = os.path.join(state["dir"], "cni", "net.d")
    os.makedirs(net_d, exist_ok=True)
    conflist = {
        "cniVersion": "0.4.0", "name": "wop-pods",
        "plugins": [
            {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False,
             "hairpinMode": True,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR, "gateway": NODE_IP}]],
                      "routes": [{"dst": "0.0.0.0/0"}],
                      "dataDir": os.path.join(state["dir"], "cni", "ipam")}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    with open(os.path.join(net_d, "10-wop-pods.conflist"), "w") as f:
        json.dump(conflist, f, indent=2)


def make_bridge(apiserver_port):
    """The pod bridge, made before the first pod so the kubelet can bind its address, and the
    way from pods to the API server: 10.0.0.1:443 arriving on the bridge is DNATed to the API
    server on loopback (which the bridge may route to only with route_localnet)."""
    run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])
    with open(f"/proc/sys/net/ipv4/conf/{BRIDGE}/route_localnet", "w") as f:
        f.write("1")
    run(["iptables", "-t", "nat", "-A", "PREROUTING", "-i", BRIDGE, "-d", cp.SERVICE_IP,
         "-p", "tcp", "--dport", "443", "-j", "DNAT",
         "--to-destination", f"127.0.0.1:{apiserver_port}",
         "-m", "comment", "--comment", "wop-node: pods to the API server"])


def make_cgroup_parent():
    """The kubelet's cgroupRoot must exist in every hierarchy; a new cpuset cgroup has no CPUs
    or memory nodes until given its parent's."""
    for hierarchy in cgroup_hierarchies():
        path = os.path.join(hierarchy, CGROUP_PARENT)
        os.makedirs(path, exist_ok=True)
        for name in ("cpuset.cpus", "cpuset.mems"):
            source = os.path.join(hierarchy, name)
            if os.path.exists(source):
                with open(source) as f:
                    value = f.read().strip()
                with open(os.path.join(path, name), "w") as f:
                    f.write(value)


def write_kubelet_config(state, pki):
    d = state["dir"]
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "cgroupDriver": "cgroupfs", "cgroupRoot": "/" + CGROUP_PARENT, "cgroupsPerQOS": True,
        "failCgroupV1": False,  # this machine has cgroup v1 (with the memory controller)
        "failSwapOn": False,
        "containerRuntimeEndpoint": "unix://" + state["containerd_socket"],
        "imageServiceEndpoint": "unix://" + state["containerd_socket"],
        "authentication": {"x509": {"clientCAFile": os.path.join(pki, "ca.crt")},
                           "webhook": {"enabled": True}, "anonymous": {"enabled": False}},
        "authorization": {"mode": "Webhook"},
        "address": NODE_IP, "port": KUBELET_PORT, "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1", "healthzPort": KUBELET_HEALTHZ_PORT,
        "tlsCertFile": os.path.join(pki, "kubelet-serving.crt"),
        "tlsPrivateKeyFile": os.path.join(pki, "kubelet-serving.key"),
        "maxPods": 250, "podCIDR": POD_CIDR,
        "podLogsDir": os.path.join(d, "pod-logs"),
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%",
                         "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
        # Imported images cannot be pulled again: never collect them.
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False,
    }
    path = os.path.join(d, "kubelet-config.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return path


def node_ready(kubeconfig, kubectl):
    got = run([kubectl, "--kubeconfig", kubeconfig, "get", "node", NODE_NAME, "-o", "json"],
              check=False, timeout=10)
    if got.returncode != 0:
        return False
    conditions = json.loads(got.stdout).get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def bind_node_role(kubeconfig, kubectl):
    """The API server runs RBAC alone (no Node authorizer): nodes get system:node by group."""
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "wop-node:system:nodes"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "system:node"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                             "name": "system:nodes"}]}
    run([kubectl, "--kubeconfig", kubeconfig, "apply", "-f", "-"], input=json.dumps(binding))


def check_preconditions(bins):
    if os.geteuid() != 0:
        raise NodeError("the node needs root (containers, mounts, iptables, cgroups)")
    for tool in ("containerd", "ctr", "runc", "iptables", "ip6tables", "ip"):
        if not shutil.which(tool):
            raise NodeError(f"{tool} not found; run scripts/setup.sh (scripts/setup-apt.sh)")
    for plugin in ("bridge", "host-local", "portmap", "loopback"):
        if not os.path.exists(f"/usr/lib/cni/{plugin}"):
            raise NodeError(f"CNI plugin /usr/lib/cni/{plugin} missing; run scripts/setup.sh")
    for name in ("kubelet", "kube-scheduler", "kubectl"):
        if not os.access(bins[name], os.X_OK):
            raise NodeError(f"{bins[name]} not found; run scripts/setup.sh")
    if os.path.exists(LOCK):
        with open(LOCK) as f:
            other = f.read().strip()
        raise NodeError(f"a node already runs on this machine (folder {other}); "
                        f"stop it with: testenv/node.py stop --dir {other}")
    for port in (KUBELET_PORT, KUBELET_HEALTHZ_PORT):
        cp.check_port_free(port, "the kubelet")
    if os.path.exists(f"/sys/class/net/{BRIDGE}"):
        raise NodeError(f"the bridge {BRIDGE} exists: an earlier node was not stopped")
    if not cgroup_hierarchies():
        raise NodeError("no cgroup v1 hierarchy mounted; this node expects cgroup v1")


def import_images(state, images_dir):
    archives = sorted(f for f in os.listdir(images_dir) if f.endswith(".oci.tar"))
    names = []
    for archive in archives:
        got = run(["ctr", "--address", state["containerd_socket"], "--namespace", "k8s.io",
                   "images", "import", "--snapshotter", "overlayfs",
                   os.path.join(images_dir, archive)], check=False, timeout=120)
        if got.returncode != 0:
            raise NodeError(f"importing {archive} failed: {got.stderr.strip()}")
        names.append(archive)
    listed = run(["ctr", "--address", state["containerd_socket"], "--namespace", "k8s.io",
                  "images", "ls", "-q"]).stdout.split()
    if PAUSE_IMAGE not in listed:
        raise NodeError(f"{PAUSE_IMAGE} (the pod sandbox) is not among the images of "
                        f"{images_dir}; run `make image`")
    return listed


def wait_for(what, check, state, timeout=READY_TIMEOUT_S):
    """The control plane's wait: fails at once, with its log's tail, if a process exits."""
    pids = {n: p for n, p in state["pids"].items() if n != "watchdog"}
    cp.wait_until(what, check, pids, state["dir"], timeout)


def start_watchdog(d, owner_pid, controlplane_dir):
    """Stops the node once the owner is gone or the control plane's folder disappears."""
    code = ("import os,sys,time,subprocess\n"
            f"owner={owner_pid}\n"
            "def alive(p):\n"
            "    try: os.kill(p,0); return True\n"
            "    except OSError: return False\n"
            "while alive(owner) and os.path.isdir(sys.argv[2]) and os.path.isdir(sys.argv[3]):\n"
            "    time.sleep(1)\n"
            "if os.path.isdir(sys.argv[2]):\n"
            "    subprocess.run([sys.executable, sys.argv[1], 'stop', '--dir', sys.argv[2]])\n")
    return subprocess.Popen([sys.executable, "-c", code, os.path.abspath(__file__), d,
                             controlplane_dir], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True).pid


def start(args):
    d = os.path.abspath(args.dir)
    if args.replace and os.path.exists(os.path.join(d, "state.json")):
        stop_state(cp.load_state(d))
    if os.path.exists(os.path.join(d, "state.json")):
        raise NodeError(f"a node already uses {d}; stop it first")
    controlplane_dir = os.path.abspath(args.controlplane)
    cp_state = cp.load_state(controlplane_dir)
    bin_dir = args.bin or os.path.dirname(cp_state["bins"]["kube-apiserver"])
    bins = {n: os.path.join(bin_dir, n) for n in ("kubelet", "kube-scheduler", "kubectl")}
    check_preconditions(bins)
    owner = None
    if args.owner_pid:
        owner = os.getppid() if args.owner_pid == "parent" else args.owner_pid
        if not str(owner).isdigit():
            raise NodeError(f"--owner-pid {args.owner_pid!r} is not a pid")
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    state = {"dir": d, "controlplane": controlplane_dir, "pids": {}, "node": NODE_NAME,
             "containerd_socket": os.path.join(d, "containerd", "containerd.sock"),
             "sysctls_before": read_sysctls(),
             "fixed_paths_before": [p for p in FIXED_PATHS if os.path.lexists(p)]}
    save_iptables(d)
    with open(LOCK, "w") as f:
        f.write(d)
    cp.save_state(d, state)
    admin = os.path.join(controlplane_dir, "kubeconfig")
    try:
        if owner:
            state["pids"]["watchdog"] = start_watchdog(d, int(owner), controlplane_dir)
            cp.save_state(d, state)
        pki = issue_node_pki(d, os.path.join(controlplane_dir, "pki"))
        server = f"https://127.0.0.1:{cp_state['apiserver_port']}"
        node_kubeconfig = os.path.join(d, "kubeconfig-node")
        cp.write_kubeconfig(node_kubeconfig, server, pki, "node")
        bind_node_role(admin, bins["kubectl"])

        make_bridge(cp_state["apiserver_port"])
        make_cgroup_parent()
        write_cni_config(state)
        containerd_config = write_containerd_config(state)
        state["pids"]["containerd"] = cp.spawn(d, "containerd",
                                               ["containerd", "--config", containerd_config])
        cp.save_state(d, state)
        wait_for("containerd", lambda: run(["ctr", "--address", state["containerd_socket"],
                                            "version"], check=False).returncode == 0, state)
        state["images"] = import_images(state, args.images) if args.images else []
        cp.save_state(d, state)

        kubelet_config = write_kubelet_config(state, pki)
        state["pids"]["kubelet"] = cp.spawn(d, "kubelet", [
            bins["kubelet"], "--config", kubelet_config, "--kubeconfig", node_kubeconfig,
            "--root-dir", os.path.join(d, "kubelet"), "--cert-dir", os.path.join(d, "kubelet-pki"),
            "--hostname-override", NODE_NAME, "--node-ip", NODE_IP, "--v=1"])
        state["pids"]["kube-scheduler"] = cp.spawn(d, "kube-scheduler", [
            bins["kube-scheduler"], "--kubeconfig", admin, "--authentication-kubeconfig", admin,
            "--authorization-kubeconfig", admin, "--secure-port=0", "--leader-elect=false",
            "--v=1"])
        cp.save_state(d, state)
        wait_for(f"Node {NODE_NAME}", lambda: node_ready(admin, bins["kubectl"]), state)
    except BaseException:
        stop_state(state)
        raise
    print(NODE_NAME)


def stop(args):
    d = os.path.abspath(args.dir)
    if not os.path.exists(os.path.join(d, "state.json")):
        shutil.rmtree(d, ignore_errors=True)
        return
    stop_state(cp.load_state(d))


def status(args):
    state = cp.load_state(os.path.abspath(args.dir))
    admin = os.path.join(state["controlplane"], "kubeconfig")
    kubectl = os.path.join(os.path.dirname(cp.load_state(state["controlplane"])["bins"]["kubectl"]),
                           "kubectl")
    if not node_ready(admin, kubectl):
        raise NodeError(f"Node {NODE_NAME} is not Ready")
    print("ready")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True, help="state folder of this node")
        if name == "start":
            p.add_argument("--controlplane", required=True,
                           help="folder of a running testenv/controlplane.py control plane")
            p.add_argument("--bin", help="folder with kubelet, kube-scheduler and kubectl "
                                         "(default: the control plane's)")
            p.add_argument("--images", help="folder of *.oci.tar images to import "
                                            "(scripts/build-image.sh's output)")
            p.add_argument("--owner-pid", help="stop when this process exits ('parent': ours)")
            p.add_argument("--replace", action="store_true",
                           help="stop a node left in --dir by an earlier run first")
    args = parser.parse_args()
    handlers = {"start": start, "stop": stop, "status": status}
    try:
        handlers[args.command](args)
    except (NodeError, cp.ControlPlaneError) as e:
        print(f"node: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("node: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
