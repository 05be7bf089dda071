#!/usr/bin/env python3
"""The prototype's headline measured our way (issue 15, part 5): the ring on a real node
(testenv/node.py), each operator as a container, against one host Pod running all N.

Setups:
  pods-client-go     each ring operator a Pod: its pause container, its containerd shim and
                     the client-go ring binary (bench/ring/clientgo) in localhost/ring-client-go:dev
  pod-wasm-resident  one host Pod (localhost/wasm-operator:dev) running all N, never swapping
  pod-wasm-swap      the same with swapping on (--swap-idle-ms and --swap-predict as given)

Each (setup, N) runs --repeats times, in a shuffled order, each on a control plane and a node
of its own, started fresh. What the node pays for the operators is sampled once a second
during the measured cycles:
  - the `kubepods` cgroup (cgroup v1 memory controller, hierarchical): memory.usage_in_bytes,
    and memory.stat's total_rss / total_cache split; every pod's containers and pause in it;
  - the containerd shims, which run outside it: their PSS;
  - PSS of every process in it (pause, ring binaries or the host), and of kubelet and
    containerd, reported apart (the node pays them whatever runs on it).
Hop latency is the ring benchmark's probe (bench/ring/probe.py): when each namespace first
showed each nonce, watched from outside the node.

Operators are byte-distinct, as in the prototype's method and `make bench-ring`: each client-go
Pod runs its own copy of the binary (mounted from the node, so no code page is shared, as with
one image per operator), and each Wasm operator its own module. The host's artifact cache is
warmed before the measured launch, as in the ring benchmark.

  bench/pods/run.py --build BUILD [--n 10,50,100] [--repeats 3] [--setups ...]
Writes bench/results/pods.json and docs/benchmarks/pods.md (with a plot). Needs root.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "bench", "ring"))
sys.path.insert(0, os.path.join(ROOT, "testenv"))
from report import git_commit, machine_summary, percentile, read_deps  # noqa: E402
import node as testnode  # noqa: E402
import probe  # noqa: E402
import setups as ring_setups  # noqa: E402

SETUPS = ("pods-client-go", "pod-wasm-resident", "pod-wasm-swap")
NS = "wop-bench"
CRD = os.path.join(ROOT, "deploy", "crds", "testresources.yaml")
KUBEPODS = f"/sys/fs/cgroup/memory/{testnode.CGROUP_PARENT}/kubepods"
CPUACCT = f"/sys/fs/cgroup/cpuacct/{testnode.CGROUP_PARENT}/kubepods"


class RunFailed(Exception):
    pass


def sh(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


# ------------------------------------------------------------------------- measurements

def read_int(path):
    with open(path) as f:
        return int(f.read().strip())


def cgroup_memory():
    stat = {}
    with open(os.path.join(KUBEPODS, "memory.stat")) as f:
        for line in f:
            k, v = line.split()
            stat[k] = int(v)
    return {"usage_bytes": read_int(os.path.join(KUBEPODS, "memory.usage_in_bytes")),
            "total_rss_bytes": stat.get("total_rss", 0), "total_cache_bytes": stat.get("total_cache", 0)}


def cgroup_pids(root):
    pids = []
    for dirpath, _, files in os.walk(root):
        if "cgroup.procs" in files:
            try:
                with open(os.path.join(dirpath, "cgroup.procs")) as f:
                    pids += [int(p) for p in f.read().split()]
            except OSError:
                pass
    return pids


def sample(node_state):
    """One sample of everything the node pays, in bytes."""
    shims = testnode.shim_pids(node_state)
    pods = cgroup_pids(KUBEPODS)
    memory = cgroup_memory()
    shims_pss = probe.pss_bytes(shims)
    return {**memory, "shims_pss_bytes": shims_pss, "shims": len(shims),
            "pods_pss_bytes": probe.pss_bytes(pods), "pod_processes": len(pods),
            "node_pays_bytes": memory["usage_bytes"] + shims_pss,
            "kubelet_pss_bytes": probe.pss_bytes([node_state["pids"]["kubelet"]]),
            "containerd_pss_bytes": probe.pss_bytes([node_state["pids"]["containerd"]])}


def median_sample(sampler, phase):
    """The median of each figure over the samples of one phase."""
    rows = sampler.of(phase)
    return {k: int(statistics.median(r[k] for r in rows)) for k in rows[0]} if rows else {}


# ------------------------------------------------------------------------- the setups

def bench_objects(n, setup, workdir, options):
    """The Pods (and their RBAC) that run the ring for setup."""
    rbac = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ring", "namespace": NS}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "wop-bench-ring"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "wop-bench-ring"},
         "subjects": [{"kind": "ServiceAccount", "name": "ring", "namespace": NS}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "wop-bench-ring"},
         "rules": [{"apiGroups": ["bench.wasm-operator.dev"], "resources": ["testresources"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch"]}]},
    ]
    volume = {"name": "bench", "hostPath": {"path": workdir, "type": "Directory"}}
    mount = {"name": "bench", "mountPath": workdir, "readOnly": True}
    rate = ["--qps", options.client_qps, "--burst", str(options.client_burst)]
    pods = []
    if setup == "pods-client-go":
        for i in range(n):
            pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"ring-{i}", "namespace": NS},
                         "spec": {"serviceAccountName": "ring", "restartPolicy": "Always",
                                  "containers": [{"name": "ring", "image": "localhost/ring-client-go:dev",
                                                  "imagePullPolicy": "Never",
                                                  "command": [os.path.join(workdir, "copies", f"{i}-ring-clientgo"),
                                                              "--input-namespace", f"ring-{i}",
                                                              "--output-namespace", f"ring-{(i + 1) % n}", *rate],
                                                  "volumeMounts": [mount]}],
                                  "volumes": [volume]}})
        return rbac + pods
    args = ["run", "--operators", os.path.join(workdir, "operators"), "--artifact-dir",
            os.path.join(workdir, "artifacts"), "--metrics-bind-address", "0", "--health-probe-bind-address", "0",
            *rate]
    volumes = [{"name": "bench", "hostPath": {"path": workdir, "type": "Directory"}}]
    mounts = [{"name": "bench", "mountPath": workdir}]
    if setup == "pod-wasm-swap":
        args += ["--swap", "on", "--swap-dir", "/var/cache/wasm-operator/snapshots",
                 "--swap-idle-ms", str(options.swap_idle_ms), "--swap-predict", options.swap_predict]
        volumes.append({"name": "snapshots", "emptyDir": {}})  # the node's disk, as in deploy/
        mounts.append({"name": "snapshots", "mountPath": "/var/cache/wasm-operator"})
    else:
        args += ["--swap", "off"]
    pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "host", "namespace": NS},
                 "spec": {"serviceAccountName": "ring", "restartPolicy": "Always",
                          # root: the definitions, modules and warmed artifacts are the harness's files
                          "securityContext": {"runAsUser": 0},
                          "containers": [{"name": "host", "image": "localhost/wasm-operator:dev",
                                          "imagePullPolicy": "Never", "args": args, "volumeMounts": mounts}],
                          "volumes": volumes}})
    return rbac + pods


def prepare(setup, n, build, clientgo, workdir, options):
    """Byte-distinct binaries or modules in workdir; for Wasm, definitions and a warm cache."""
    if setup == "pods-client-go":
        ring_setups.copies(clientgo, n, workdir, shared=False)
        return
    # The ring benchmark's own preparation: distinct modules, definitions, and one run of the
    # host (outside the node) until every module is compiled into the artifact cache.
    s = ring_setups.Setup("wasm-resident", build, None, options.kubeconfig, workdir, n, options)
    s._write_definitions()
    s._warm_artifacts()


# ------------------------------------------------------------------------- one run

def drive(api, watcher, j, timeout, what):
    written = time.monotonic()
    api.set_nonce("ring-0", "ring", j, create=(j == 1))
    if not watcher.wait_last(j, timeout):
        raise RunFailed(f"{what}: cycle {j} did not go round within {timeout:.0f} s; last reached "
                        f"{watcher.last_reached(j)}")
    return written


def run_one(setup, n, options, deps, build, clientgo, images):
    what = f"{setup} N={n}"
    workdir = tempfile.mkdtemp(prefix=f"wop-pods-{setup}-{n}-")
    os.chmod(workdir, 0o755)
    plane = tempfile.mkdtemp(prefix="wop-pods-cp-")
    node_dir = tempfile.mkdtemp(prefix="wop-pods-node-")
    cp = [sys.executable, os.path.join(ROOT, "testenv", "controlplane.py")]
    nd = [sys.executable, os.path.join(ROOT, "testenv", "node.py")]
    kubectl = [os.path.join(deps["WOP_KUBE_BIN"], "kubectl"), "--kubeconfig", os.path.join(plane, "kubeconfig")]
    load_before = os.getloadavg()[0]
    try:
        sh(cp + ["start", "--dir", plane, "--bin", deps["WOP_KUBE_BIN"], "--owner-pid", str(os.getpid())])
        sh(nd + ["start", "--dir", node_dir, "--controlplane", plane, "--images", images,
                 "--owner-pid", str(os.getpid())])
        node_state = json.load(open(os.path.join(node_dir, "state.json")))
        kubeconfig = os.path.join(plane, "kubeconfig")
        options.kubeconfig = kubeconfig
        sh(kubectl + ["apply", "-f", CRD])
        sh(kubectl + ["wait", "--for=condition=Established", "crd/testresources.bench.wasm-operator.dev"])
        prepare(setup, n, build, clientgo, workdir, options)
        api = probe.Api(kubeconfig)
        for i in range(n):
            api.create_namespace(f"ring-{i}")
        api.create_namespace(NS)
        watcher = probe.RingWatcher(probe.Api(kubeconfig), n)
        watcher.start()
        watcher.wait_flowing(api)
        idle_node = sample(node_state)
        # Page cache is charged to the cgroup that first reads a page: the harness wrote the
        # binaries and warmed the artifacts, so without this their pages would count for it.
        subprocess.run(["sync"])
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1")

        launched = time.monotonic()
        sh(kubectl + ["apply", "-f", "-"], input=json.dumps(
            {"apiVersion": "v1", "kind": "List", "items": bench_objects(n, setup, workdir, options)}))
        sampler = probe.MemorySampler([], interval=1.0, measure=lambda: sample(node_state))
        sampler.start()
        try:
            drive(api, watcher, 1, options.first_timeout + 0.5 * n, what)
            first_reconcile_s = watcher.times(1)[n - 1] - launched
            sampler.set_phase("warmup")
            for j in range(2, 2 + options.warmup):
                drive(api, watcher, j, options.cycle_timeout + 0.1 * n, what)
            cpu_start = read_int(os.path.join(CPUACCT, "cpuacct.usage"))
            shims_cpu_start = probe.cpu_seconds(testnode.shim_pids(node_state))
            sampler.set_phase("measured")
            hops, laps = [], []
            last = 1 + options.warmup + options.cycles
            for j in range(2 + options.warmup, last + 1):
                written = drive(api, watcher, j, options.cycle_timeout + 0.1 * n, what)
                times = watcher.times(j)
                hops += [(b - a) * 1000 for a, b in zip(times, times[1:])]
                laps.append((times[-1] - written) * 1000)
            cpu_s = (read_int(os.path.join(CPUACCT, "cpuacct.usage")) - cpu_start) / 1e9
            cpu_s += probe.cpu_seconds(testnode.shim_pids(node_state)) - shims_cpu_start
            sampler.set_phase("done")
            nonces = api.nonces()
        finally:
            sampler.stop()
            watcher.stop()
        wrong = {f"ring-{i}": nonces.get(f"ring-{i}") for i in range(n) if nonces.get(f"ring-{i}") != last}
        if wrong:
            raise RunFailed(f"{what}: after the run these namespaces do not hold nonce {last}: {wrong}")
        steady = median_sample(sampler, "measured")
        return {
            "setup": setup, "n": n, "steady": steady, "node_before_launch": idle_node,
            "hop_latency_ms_p50": percentile(hops, 50), "hop_latency_ms_p99": percentile(hops, 99),
            "round_trip_ms_p50": percentile(laps, 50), "hop_samples": len(hops),
            "cpu_seconds_measured": round(cpu_s, 3), "cpu_ms_per_hop": round(1000 * cpu_s / max(1, len(hops)), 3),
            "first_reconcile_s": round(first_reconcile_s, 2),
            "memory_samples": len(sampler.of("measured")),
            "loadavg_1m_before": round(load_before, 2), "loadavg_1m_after": round(os.getloadavg()[0], 2),
        }
    except subprocess.CalledProcessError as e:
        raise RunFailed(f"{what}: {' '.join(e.cmd[:3])} failed: {e.stderr.strip()[-400:]}") from e
    finally:
        subprocess.run(nd + ["stop", "--dir", node_dir], capture_output=True)
        subprocess.run(cp + ["stop", "--dir", plane], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------- main

def build_images(build, clientgo):
    images = os.path.join(build, "bench-images")
    env = dict(os.environ, WOP_IMAGE_RING_CLIENTGO=clientgo)
    sh(["bash", os.path.join(ROOT, "scripts", "build-image.sh"), build, images], env=env)
    return images


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--n", default="10,50,100")
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=30, help="measured cycles per run")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--swap-idle-ms", type=int, default=0,
                        help="pod-wasm-swap: idle time before a swap-out (the ring benchmark's setting)")
    parser.add_argument("--swap-predict", choices=("on", "off"), default="off")
    parser.add_argument("--client-qps", default="-1", help="API client QPS of every setup (negative: no limiter)")
    parser.add_argument("--client-burst", type=int, default=100)
    parser.add_argument("--first-timeout", type=float, default=120)
    parser.add_argument("--cycle-timeout", type=float, default=10)
    parser.add_argument("--seed", type=int, default=None, help="seed of the shuffled order (default: random)")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    import report_pods
    if args.report_only:
        report_pods.write(ROOT)
        return
    if os.geteuid() != 0:
        sys.exit("bench/pods/run.py needs root (the node)")
    build = os.path.abspath(args.build)
    deps = read_deps(build)
    clientgo = sh(["bash", os.path.join(ROOT, "scripts", "setup-ring-baselines.sh")]).stdout.strip()
    images = build_images(build, clientgo)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    order = [(s, int(n)) for s in args.setups.split(",") for n in args.n.split(",")] * args.repeats
    random.Random(seed).shuffle(order)
    runs, failures = [], []
    for setup, n in order:
        print(f"{setup} N={n} ...", flush=True)
        try:
            r = run_one(setup, n, args, deps, build, clientgo, images)
        except RunFailed as e:
            print(f"FAILED: {e}", flush=True)
            failures.append(str(e))
            continue
        s = r["steady"]
        print(f"  node pays {s['node_pays_bytes'] / 2**20:.1f} MiB (kubepods {s['usage_bytes'] / 2**20:.1f}, shims "
              f"{s['shims_pss_bytes'] / 2**20:.1f}), hop p50 {r['hop_latency_ms_p50']:.2f} ms p99 "
              f"{r['hop_latency_ms_p99']:.2f} ms, first round {r['first_reconcile_s']:.1f} s", flush=True)
        runs.append(r)
    settings = {k: v for k, v in vars(args).items() if k not in ("report_only", "kubeconfig")}
    settings.update({"seed": seed, "order": order})
    result = {"settings": settings, "commit": git_commit(), "machine": machine_summary(),
              "versions": {k: deps.get(k) for k in ("WOP_KUBERNETES_VERSION", "WOP_ETCD_VERSION",
                                                     "WOP_WASMTIME_VERSION")},
              "containerd": sh(["containerd", "--version"]).stdout.strip(),
              "runs": runs, "failures": failures}
    with open(os.path.join(ROOT, "bench", "results", "pods.json"), "w") as f:
        json.dump(result, f, indent=2)
    report_pods.write(ROOT)
    if failures:
        sys.exit("pods benchmark failed:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
