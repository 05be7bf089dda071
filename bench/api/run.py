#!/usr/bin/env python3
"""The WasmOperator API's figures (issue 13): time from creating a WasmOperator to its first
reconcile with the module cached (a path; an image already pulled) and cold (an image pulled
from a registry and compiled), and the cost of an upgrade under load.

  /usr/bin/python3 bench/api/run.py --build BUILD [--repeats 20] [--upgrades 15] [--seed S]
  /usr/bin/python3 bench/api/run.py --report-only     # docs/benchmarks/api.md from the JSON

Writes bench/results/api.json and docs/benchmarks/api.md (with a plot). One control plane of its
own (testenv/controlplane.py; it waits while another runs), one docker-registry with TLS and
basic auth, modules pushed by oras, one `wasm-operator run` host at its defaults running the
cluster's WasmOperators. Every setting is in the JSON. About 4 minutes on 2 cores."""
import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
# bench/report.py before the test harness, which puts test/chaos (with a report.py) on the path.
import report  # noqa: E402,I100
from report import read_deps  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
sys.path.insert(0, os.path.join(ROOT, "testenv"))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from registry import Registry, oras_binary  # noqa: E402
import cluster  # noqa: E402
from apply import KINDS, ApplyBench  # noqa: E402
from upgrade import UpgradeBench  # noqa: E402
import report_api  # noqa: E402

RESULTS = os.path.join(ROOT, "bench", "results", "api.json")
DOC = os.path.join(ROOT, "docs", "benchmarks", "api.md")
PLOT = os.path.join(ROOT, "docs", "benchmarks", "api.png")


def wait_for_free_control_plane():
    """Only one control plane at a time on this machine: wait while another one runs."""
    while subprocess.run(["pgrep", "-x", "kube-apiserver"], capture_output=True).returncode == 0:
        print("another kube-apiserver runs; waiting 30 s", flush=True)
        time.sleep(30)


def version_of(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None


def start_host(env, registry):
    host = cluster.DefaultsHost(env.binary, env.kubeconfig, None, os.path.join(env.workdir, "host"),
                                os.path.join(env.workdir, "host", "swap"), env.artifacts, 1.0)
    host.ca_file = registry.ca_file
    os.makedirs(host.workdir, exist_ok=True)
    host.start()
    if not harness.eventually(lambda: host.log_grep("running the cluster's WasmOperator objects"), 60):
        raise RuntimeError(f"the host did not start: {host.log_tail(5)}")
    return host


def measure(args, deps, kubeconfig, load):
    os.environ["WOP_TESTENV_DIR"] = os.path.dirname(kubeconfig)
    env = harness.Environment(args.build, deps["WOP_KUBE_BIN"], "bench-api")  # TestResource CRD, RBAC
    kubectl = [os.path.join(deps["WOP_KUBE_BIN"], "kubectl"), "--kubeconfig", env.kubeconfig]
    subprocess.run(kubectl + ["apply", "-f", cluster.WASMOPERATOR_CRD], check=True, capture_output=True)
    subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/wasmoperators.wasm-operator.dev"],
                   check=True, capture_output=True)
    registry = Registry(users={cluster.USER: cluster.PASSWORD}, pki_dir=os.path.join(os.path.dirname(kubeconfig), "pki"))
    registry.start()
    watches = cluster.Watches(env.api)
    host = None
    try:
        subprocess.run(kubectl + ["apply", "--server-side", "-f", "-"], check=True, capture_output=True, text=True,
                       input=json.dumps({"apiVersion": "v1", "kind": "List", "items": cluster.pull_objects(registry)}))
        watches.start()
        host = start_host(env, registry)
        ctx = types.SimpleNamespace(api=env.api, host=host, watches=watches, registry=registry, kubectl=kubectl,
                                    kubeconfig=env.kubeconfig, workdir=env.workdir, settle_s=args.settle,
                                    timeout_s=args.timeout, ring_wasm=os.path.join(args.build, "wasm", "ring.wasm"))
        rng = random.Random(args.seed)
        bench = ApplyBench(ctx)
        warm = bench.prepare()
        load.phase = "apply"
        plan = [(kind, rep) for kind in KINDS for rep in range(args.repeats)]
        rng.shuffle(plan)
        runs = []
        for i, (kind, rep) in enumerate(plan):
            run = bench.one(kind, f"{kind}-{rep}")
            print(f"apply {i + 1}/{len(plan)} {kind}: "
                  f"{run.get('error') or round(run['first_reconcile_s'] * 1e3, 1)} ms", flush=True)
            runs.append(run)
        load.phase = "upgrade"
        up = UpgradeBench(ctx, args).run(rng)
        load.phase = "teardown"
        print(f"upgrades: {up['check']}", flush=True)
        host_status = host.status()
        argv = host.argv()
    finally:
        if host:
            host.stop()
        watches.stop()
        registry.stop()
    failed = any(r.get("error") for r in runs) or up["check"]["lost"] or host.crashes
    if failed:
        print(f"kept the host's log, artifacts and modules in {env.workdir}")
    else:  # about 30 MiB of compiled modules
        shutil.rmtree(env.workdir, ignore_errors=True)
    return {"warmup": warm, "apply": runs, "upgrade": up, "host_argv": argv, "host_crashes": host.crashes,
            "host_status_end": host_status}


def settings(args, deps):
    binary = os.path.join(args.build, "host", "wasm-operator")
    ring = os.path.join(args.build, "wasm", "ring.wasm")
    kube_bin = deps["WOP_KUBE_BIN"]
    return {"repeats": args.repeats, "seed": args.seed, "settle_s": args.settle, "timeout_s": args.timeout,
            "apply_kinds": list(KINDS), "order": "all repetitions of every kind in one shuffled list",
            "upgrade": {"operators": 3, "upgraded": 1, "keys": args.keys, "writes_per_s": args.rate,
                        "segment_s": args.segment_s, "upgrades": args.upgrades, "baseline_segments": args.upgrades,
                        "warmup_s": args.warmup_s, "new_module": "path, a byte-distinct copy of ring.wasm"},
            "host_defaults": cluster.host_defaults(binary),
            "host_given": "--artifact-dir, --swap-dir, --status-file (where files go), --module-ca-file, "
                          "--metrics-bind-address and --health-probe-bind-address 127.0.0.1:0",
            "ring_wasm_bytes": os.path.getsize(ring),
            "timing": "monotonic clock of the harness; first reconcile = the harness's watch of TestResources "
                      "(all namespaces, one HTTPS stream opened before the run) delivering the copy",
            "registry": {"server": version_of(["docker-registry", "--version"]), "tls": "test CA",
                         "auth": "htpasswd basic", "loopback": True, "layout": "wasm-oci"},
            "oras": version_of([oras_binary(args.build), "version"]),
            "kubectl": version_of([os.path.join(kube_bin, "kubectl"), "version", "--client"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--repeats", type=int, default=20, help="repetitions of each apply kind")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between a repetition's set-up and its apply")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an apply may take to reconcile")
    parser.add_argument("--upgrades", type=int, default=15, help="upgrade segments (and as many baseline ones)")
    parser.add_argument("--segment-s", type=float, default=4.0, help="seconds per segment")
    parser.add_argument("--keys", type=int, default=10, help="keys the driver writes, round robin")
    parser.add_argument("--rate", type=float, default=15.0, help="driver writes per second")
    parser.add_argument("--warmup-s", type=float, default=3.0, help="load before the first segment")
    parser.add_argument("--seed", type=int, default=None, help="shuffle seed (default: from the clock)")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if args.report_only:
        with open(RESULTS) as f:
            report_api.write(json.load(f), DOC, PLOT)
        print(f"wrote {DOC}")
        return
    args.build = os.path.abspath(args.build)
    if args.seed is None:
        args.seed = int(time.time())
    deps = read_deps(args.build)
    os.environ.setdefault("WOP_ORAS_BIN", oras_binary(args.build))  # for push_wasm
    wait_for_free_control_plane()
    started = time.monotonic()
    load = cluster.MachineLoad()
    load.start()
    try:
        with report.control_plane(deps) as kubeconfig:
            results = measure(args, deps, kubeconfig, load)
    finally:
        load.stop()
    results["machine_load"] = load.summary()
    doc = {"benchmark": "WasmOperator API: apply to first reconcile, upgrade under load (issue 13)",
           "commit": report.git_commit(),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": report.machine_summary(),
           "versions": {k: v for k, v in deps.items() if k.endswith("_VERSION")},
           "settings": settings(args, deps), "wall_s": time.monotonic() - started, **results}
    with open(RESULTS, "w") as f:
        json.dump(doc, f, indent=2)
    report_api.write(doc, DOC, PLOT)
    print(f"wrote {RESULTS} and {DOC}")
    failed = [r for r in results["apply"] if r.get("error")]
    check = results["upgrade"]["check"]
    if failed or check["lost"] or results["host_crashes"]:
        print(f"FAILED: {len(failed)} apply errors, {check['lost']} lost, {len(results['host_crashes'])} crashes")
        sys.exit(1)


if __name__ == "__main__":
    main()
