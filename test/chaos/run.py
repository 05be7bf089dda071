#!/usr/bin/env python3
"""The standing fault suite (issue 10): the ring (swap on, idle 0) plus the replicator, in
one real host against a real control plane, under each fault; every run must end with 0 lost
updates and no host crash.

  test/chaos/run.py --build BUILD [--quick] [--only REGEX] [--json OUT] [--report]
                    [--rounds R] [--changes C] [--window S] [--list]

--quick runs the subset registered in CTest (label chaos). Without --json, results go to
bench/results/chaos.json (the full matrix) or BUILD/chaos-quick.json (--quick); --report
also writes docs/reliability.md from that JSON (report.py). Exit status 1 if any scenario
fails. One control plane (testenv/controlplane.py, watchdog on this process) serves every
scenario in turn; each scenario gets namespaces of its own (prefix c<index>), a host of its
own, a fresh swap folder and, if it needs one, a proxy or a small file system; everything it
started is stopped at its end, failure or not. The folders of failed scenarios (host log,
status file) are kept and named in the results."""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "testenv"))
import checker  # noqa: E402
import faults  # noqa: E402
import hostile  # noqa: E402
import proxy as proxy_mod  # noqa: E402
import report  # noqa: E402
from deps import read_deps  # noqa: E402
from kube import Api  # noqa: E402
from workload import Host, Workload, definitions, percentile  # noqa: E402

CONTROLPLANE = os.path.join(ROOT, "testenv", "controlplane.py")
CRD = os.path.join(ROOT, "deploy", "crds", "testresources.yaml")
RBAC = os.path.join(ROOT, "deploy", "rbac", "example-operators.yaml")

# Hostile guests: the ring's hop latency holds if p50 <= 2 x baseline p50 + 10 ms and
# p99 <= 3 x baseline p99 + 50 ms (the baseline scenario of the same run; a shared 2-core
# machine is noisy, so the bounds are loose: they catch a starved ring, not jitter).
LATENCY_RULE = {"p50_factor": 2.0, "p50_slack_ms": 10.0, "p99_factor": 3.0, "p99_slack_ms": 50.0}


class Scenario:
    def __init__(self, name, group, fault, quick=False, proxy=None, disk=None, replicator_idle_ms=None,
                 hostile_guest=None, expect=""):
        self.name, self.group, self.fault, self.quick = name, group, fault, quick
        self.proxy, self.disk, self.replicator_idle_ms = proxy, disk, replicator_idle_ms
        self.hostile_guest, self.expect = hostile_guest, expect

    @property
    def description(self):
        if self.hostile_guest:
            return hostile.CORPUS[self.hostile_guest][2]
        return " ".join((self.fault.__doc__ or "").strip().split("\n\n")[0].split())


def scenarios():
    s = [
        Scenario("baseline", "baseline", faults.none, expect="no fault: the reference"),
        Scenario("kill9-mid-swapout", "host", faults.kill9_mid_swapout, quick=True,
                 expect="restarted host relists, reconciles everything, removes the dead host's snapshots"),
        Scenario("apiserver-restart", "control plane", faults.apiserver_restart, quick=True,
                 expect="requests retried, watches resume"),
        Scenario("etcd-compaction-x2", "control plane", faults.etcd_compaction_twice, quick=True,
                 expect="410 Gone -> relist, nothing lost"),
    ]
    for how in ("flip", "truncate", "delete"):
        s.append(Scenario(f"snapshot-{how}-swapped", "snapshot", faults.snapshot_damage_swapped(how),
                          quick=how == "flip", expect="damage detected at restore, fresh instance, keys re-queued"))
    for how in ("flip", "truncate", "delete"):
        s.append(Scenario(f"snapshot-{how}-resident", "snapshot", faults.snapshot_damage_resident(how),
                          replicator_idle_ms=4000,
                          expect="the mapped guest keeps running or restarts fresh; no host crash"))
    s.append(Scenario("full-disk", "disk", faults.full_disk, disk="ext4",
                      expect="swap-out fails, operators stay resident, swap resumes when space is back"))
    for kind, mode in (("latency", "tcp"), ("resets", "tcp"), ("stall", "tcp"),
                       ("truncate-watch", "http"), ("429", "http"), ("5xx", "http")):
        s.append(Scenario(f"proxy-{kind}", "API server (proxy)", faults.proxy_fault(kind), proxy=mode,
                          quick=kind in ("latency", "429", "5xx"),
                          expect="retries (Retry-After), watch resume; nothing lost"))
    for name in hostile.CORPUS:
        s.append(Scenario(f"hostile-{name.replace('_', '-')}", "hostile guest", faults.hostile_pokes,
                          hostile_guest=name, expect="this operator fails alone; ring latency holds"))
    return s


class Context:
    pass


# ---------------------------------------------------------------------------- mounts

def mount_ext4(workdir, size_mib=64):
    image = os.path.join(workdir, "disk.img")
    mountpoint = os.path.join(workdir, "swap")
    os.makedirs(mountpoint, exist_ok=True)
    with open(image, "wb") as f:
        f.truncate(size_mib << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", image], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", image, mountpoint], check=True, capture_output=True)
    return mountpoint


def unmount(mountpoint):
    subprocess.run(["umount", "-l", mountpoint], capture_output=True)


def unmount_stale():
    """Loop mounts left by a killed run of this suite (its pid is in the folder name)."""
    try:
        with open("/proc/mounts") as f:
            points = [line.split()[1] for line in f]
    except OSError:
        return
    for p in points:
        m = re.search(r"/wop-chaos-(\d+)-", p)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            unmount(p)


# ---------------------------------------------------------------------------- one scenario

def status_totals(status, prefix="ring-"):
    ops = (status or {}).get("operators", [])
    out = {k: sum(o.get(k, 0) for o in ops) for k in ("reconciles", "reconcileErrors", "restarts")}
    for k in ("swapOuts", "restores", "snapshotFaults"):
        out[k] = sum(int(o.get("swap", {}).get(k, 0)) for o in ops)
    return out


def run_scenario(index, sc, env, settings, baseline):
    workdir = os.path.join(env.suite_dir, sc.name)
    os.makedirs(workdir)
    ctx = Context()
    ctx.api, ctx.plane, ctx.controlplane = env.api, env.plane, CONTROLPLANE
    ctx.evidence = {}
    result = {"name": sc.name, "group": sc.group, "fault": sc.description, "expect": sc.expect,
              "quick": sc.quick, "proxy_mode": sc.proxy, "swap_disk": sc.disk or "host file system",
              "replicator_idle_ms": sc.replicator_idle_ms if sc.replicator_idle_ms is not None else 0}
    started = time.monotonic()
    proxy = host = workload = mountpoint = None
    fault_error = []
    try:
        kubeconfig = env.kubeconfig
        if sc.proxy:
            proxy = proxy_mod.Proxy(env.apiserver_port, os.path.join(env.plane, "pki"), sc.proxy)
            port = proxy.start()
            kubeconfig = os.path.join(workdir, "kubeconfig-proxy")
            proxy_mod.write_kubeconfig(env.kubeconfig, kubeconfig, port)
        if sc.disk == "ext4":
            if os.geteuid() != 0:
                result.update(outcome="skipped", symptom="needs root to mount a loop file system")
                return result
            mountpoint = mount_ext4(workdir)
            swap_dir = mountpoint
        else:
            swap_dir = os.path.join(workdir, "swap")
        ctx.swap_dir = swap_dir
        prefix = f"c{index}"
        workload = Workload(env.api, prefix, n=settings["ring_n"], sources=settings["sources"],
                            rounds=settings["rounds"], changes=settings["changes"], window_s=settings["window_s"],
                            round_timeout_s=settings["round_timeout_s"])
        ctx.workload = workload
        workload.create_objects()
        extra = [hostile.definition(sc.hostile_guest, workdir)] if sc.hostile_guest else []
        operators = os.path.join(workdir, "operators.yaml")
        with open(operators, "w") as f:
            f.write(definitions(env.build, prefix, settings["ring_n"], sc.replicator_idle_ms, extra))
        host = Host(env.binary, kubeconfig, operators, workdir, swap_dir, env.artifacts)
        ctx.host, ctx.proxy = host, proxy
        host.start()
        ready, startup_s = workload.wait_ready(settings["ready_timeout_s"])
        result["startup_s"] = round(startup_s, 2)
        if not ready:
            raise RuntimeError(f"the host did not carry round 1 and the first copies within "
                               f"{settings['ready_timeout_s']} s")

        ctx.t0 = time.monotonic()
        ctx.workload_end_estimate = ctx.t0 + settings["window_s"]
        fault_at = 0 if sc.hostile_guest else settings["window_s"] * settings["fault_at_fraction"]
        times = {}

        def run_fault():
            time.sleep(fault_at)
            times["start"] = time.monotonic()
            try:
                sc.fault(ctx)
            except Exception as e:  # noqa: BLE001 - a fault that could not be injected fails the run
                fault_error.append(f"{type(e).__name__}: {e}")
            times["end"] = time.monotonic()
            times["expected_at_end"] = ctx.workload.expected()

        fault_thread = threading.Thread(target=run_fault, daemon=True)
        workload.start()
        fault_thread.start()
        workload.join()
        fault_thread.join(settings["fault_timeout_s"])
        if fault_thread.is_alive():
            fault_error.append("the fault did not finish")
        since = max(workload.done_at, times.get("end", workload.done_at))
        result["fault_start_s"] = round(times.get("start", since) - ctx.t0, 2)
        result["fault_duration_s"] = round(times.get("end", since) - times.get("start", since), 2)
        final_s, check = checker.await_convergence(env.api, workload, since, settings["converge_timeout_s"])
        # Time to converge: from the end of the fault until every update acknowledged by then
        # was reflected (the workload may go on writing; its later updates are the final check's).
        converge_s = None
        if "expected_at_end" in times:
            at = checker.converged_by_watch(workload, times["expected_at_end"])
            converge_s = max(0.0, at - times["end"]) if at is not None else None
        time.sleep(settings["settle_s"])
        final = checker.check(env.api, workload)
        hops = workload.hop_latencies_ms()
        status = host.status()
        result.update({
            "converge_s": round(converge_s, 2) if converge_s is not None else None,
            "final_converge_s": round(final_s, 2) if final_s is not None else None,
            "lost": final["lost"], "lost_ring": final["lost_ring"], "lost_replicator": final["lost_replicator"],
            "duplicates": final["duplicates"], "final_nonce": final["final_nonce"],
            "replicator_changes": final["replicator_changes"], "lost_details": final["details"],
            "rounds_timed_out": len(workload.rounds_timed_out), "harness_write_errors": workload.write_errors[:3],
            "hop_ms_p50": percentile(hops, 50), "hop_ms_p99": percentile(hops, 99), "hop_samples": len(hops),
            "host_status": status_totals(status), "host_starts": host.starts,
            "watch_relists": workload.ring.relists + workload.copies.relists,
        })
        if sc.hostile_guest:
            name = extra[0]["metadata"]["name"]
            op = host.operator(name)
            if op:
                result["hostile_operator"] = {"state": op["state"], "restarts": op["restarts"],
                                              "reconciles": op["reconciles"], "lastError": op["lastError"][:200]}
            elif status is None:  # the status file is first written once every operator is loaded
                result["hostile_operator"] = {"state": "still loading (the host wrote no status file)",
                                              "log": host.log_grep(name, 2)}
            else:
                result["hostile_operator"] = {"state": "refused", "log": host.log_grep(name, 2)}
    except Exception as e:  # noqa: BLE001 - the scenario fails with the reason; the suite goes on
        result["error"] = f"{type(e).__name__}: {e}"
        result["traceback"] = traceback.format_exc().splitlines()[-3:]
    finally:
        if workload:
            workload.stop()
        if host:
            host.stop()
            result["crashes"] = [{k: v for k, v in c.items() if k != "at"} for c in host.crashes]
            result["host_log_tail"] = host.log_tail(6)
        if proxy:
            ctx.evidence.setdefault("proxy", dict(proxy.stats))
            proxy.stop()
        if mountpoint:
            unmount(mountpoint)
    result["evidence"] = ctx.evidence
    if fault_error:
        result["fault_error"] = fault_error
    result["wall_s"] = round(time.monotonic() - started, 1)
    judge(result, sc, baseline)
    if result["outcome"] == "pass":
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        result["kept"] = workdir
    return result


def judge(result, sc, baseline):
    if result.get("outcome") == "skipped":
        return
    reasons = []
    if result.get("error"):
        reasons.append(result["error"])
    if result.get("fault_error"):
        reasons.append("fault not injected: " + "; ".join(result["fault_error"]))
    crashes = result.get("crashes", [])
    if crashes:
        kinds = {}
        for c in crashes:
            what = (c["signal"] or f"exit {c['returncode']}") + (" at shutdown" if c.get("phase") else "")
            kinds[what] = kinds.get(what, 0) + 1
        tail = " | ".join(line.strip()[:160] for line in crashes[0].get("log_tail", [])[-2:])
        reasons.append("host crashed: " + ", ".join(f"{k} x{n}" for k, n in kinds.items())
                       + f" (last log lines before the first: {tail})")
    if result.get("lost"):
        reasons.append(f"{result['lost']} updates lost ({'; '.join(result.get('lost_details', [])[:3])})")
    if "lost" in result and result.get("final_converge_s") is None and not result.get("lost"):
        reasons.append("did not converge in time")
    if sc.hostile_guest and baseline and result.get("hop_ms_p50") is not None:
        r = LATENCY_RULE
        p50_max = r["p50_factor"] * baseline["hop_ms_p50"] + r["p50_slack_ms"]
        p99_max = r["p99_factor"] * baseline["hop_ms_p99"] + r["p99_slack_ms"]
        result["latency_bound_ms"] = {"p50": round(p50_max, 2), "p99": round(p99_max, 2)}
        result["latency_held"] = result["hop_ms_p50"] <= p50_max and result["hop_ms_p99"] <= p99_max
        if not result["latency_held"]:
            reasons.append(f"ring hop latency did not hold: p50 {result['hop_ms_p50']:.1f} ms (max {p50_max:.1f}), "
                           f"p99 {result['hop_ms_p99']:.1f} ms (max {p99_max:.1f})")
    if sc.hostile_guest and result.get("hop_samples") == 0 and "lost" in result:
        reasons.append("no ring round completed beside the hostile guest")
    result["outcome"] = "fail" if reasons else "pass"
    result["symptom"] = "; ".join(reasons)


# ---------------------------------------------------------------------------- the suite

def git_commit():
    out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + ("+changes" if dirty else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--quick", action="store_true", help="only the CTest subset")
    parser.add_argument("--only", help="regex over scenario names")
    parser.add_argument("--json", help="results file")
    parser.add_argument("--report", action="store_true", help="also write docs/reliability.md")
    parser.add_argument("--report-only", action="store_true", help="only rewrite docs/reliability.md from the JSON")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--ring-n", type=int, default=4)
    parser.add_argument("--sources", type=int, default=4)
    parser.add_argument("--rounds", type=int, help="ring rounds per scenario (default 30; quick 12)")
    parser.add_argument("--changes", type=int, help="replicator changes per scenario (default 300; quick 200)")
    parser.add_argument("--window", type=float, help="seconds the workload is spread over (default 12; quick 8)")
    args = parser.parse_args()
    chosen = [s for s in scenarios() if (not args.quick or s.quick) and (not args.only or re.search(args.only, s.name))]
    if args.list:
        for s in chosen:
            print(f"{s.name:28} {'quick ' if s.quick else '      '}{s.description}")
        return 0
    build = os.path.abspath(args.build)
    out = args.json or (os.path.join(build, "chaos-quick.json") if args.quick
                        else os.path.join(ROOT, "bench", "results", "chaos.json"))
    if args.report_only:
        report.write(out, os.path.join(ROOT, "docs", "reliability.md"))
        return 0
    settings = {"ring_n": args.ring_n, "sources": args.sources, "targets_per_source": 2,
                "rounds": args.rounds or (12 if args.quick else 30),
                "changes": args.changes or (200 if args.quick else 300),
                "window_s": args.window or (8.0 if args.quick else 12.0),
                "fault_at_fraction": 0.25, "round_timeout_s": 10.0, "ready_timeout_s": 120.0,
                "converge_timeout_s": 90.0, "settle_s": 1.0, "fault_timeout_s": 120.0,
                "host_flags": "--swap on --swap-idle-ms 0 --swap-predict off (replicator: idleAfterMs 4000 "
                              "in the *-resident scenarios)",
                "host_restart_delay_s": 1.0, "latency_rule": LATENCY_RULE, "quick": args.quick,
                "only": args.only}
    deps = read_deps(build)
    unmount_stale()
    env = Context()
    env.build = build
    env.binary = os.path.join(build, "host", "wasm-operator")
    for wasm in ("ring.wasm", "replicator.wasm"):
        if not os.path.exists(os.path.join(build, "wasm", wasm)):
            sys.exit(f"chaos: {build}/wasm/{wasm} missing: build first (make build)")
    env.suite_dir = tempfile.mkdtemp(prefix=f"wop-chaos-{os.getpid()}-")
    env.plane = os.path.join(env.suite_dir, "controlplane")
    env.artifacts = os.path.join(env.suite_dir, "artifacts")
    results = []
    started = time.monotonic()
    load_before = os.getloadavg()
    print(f"chaos: {len(chosen)} scenarios; work folder {env.suite_dir}", flush=True)
    try:
        subprocess.run([sys.executable, CONTROLPLANE, "start", "--dir", env.plane, "--bin", deps["WOP_KUBE_BIN"],
                        "--owner-pid", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
        env.kubeconfig = os.path.join(env.plane, "kubeconfig")
        with open(os.path.join(env.plane, "state.json")) as f:
            env.apiserver_port = json.load(f)["apiserver_port"]
        kubectl = [os.path.join(deps["WOP_KUBE_BIN"], "kubectl"), "--kubeconfig", env.kubeconfig]
        subprocess.run(kubectl + ["apply", "-f", CRD, "-f", RBAC], check=True, capture_output=True)
        subprocess.run(kubectl + ["wait", "--for=condition=Established", "crd/testresources.bench.wasm-operator.dev"],
                       check=True, capture_output=True)
        env.api = Api(env.kubeconfig)
        baseline = None
        for i, sc in enumerate(chosen):
            print(f"[{i + 1}/{len(chosen)}] {sc.name} ...", flush=True)
            r = run_scenario(i, sc, env, settings, baseline)
            if sc.name == "baseline" and r["outcome"] == "pass":
                baseline = r
            results.append(r)
            conv = f"{r['converge_s']:.2f} s" if r.get("converge_s") is not None else "-"
            print(f"    {r['outcome'].upper()}: converged {conv}, lost {r.get('lost', '-')}, "
                  f"duplicates {r.get('duplicates', '-')}, hop p50 {r.get('hop_ms_p50') or 0:.1f} ms, "
                  f"{r['wall_s']} s{(': ' + r['symptom']) if r.get('symptom') else ''}", flush=True)
    finally:
        subprocess.run([sys.executable, CONTROLPLANE, "stop", "--dir", env.plane])
        shutil.rmtree(env.artifacts, ignore_errors=True)
        if all(r.get("outcome") != "fail" for r in results):
            shutil.rmtree(env.suite_dir, ignore_errors=True)
    doc = {"suite": "chaos (issue 10)", "commit": git_commit(),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "load_average_1m": {"start": round(load_before[0], 2), "end": round(os.getloadavg()[0], 2)},
           "versions": {k: v for k, v in deps.items() if k.endswith("_VERSION")},
           "settings": settings, "wall_s": round(time.monotonic() - started, 1), "scenarios": results}
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
    if args.report:
        report.write(out, os.path.join(ROOT, "docs", "reliability.md"))
    failed = [r["name"] for r in results if r["outcome"] == "fail"]
    print(f"chaos: {len(results) - len(failed)} of {len(results)} passed in {doc['wall_s']} s; results {out}")
    if failed:
        print("chaos: FAILED: " + ", ".join(failed))
        return 1
    return 0


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Linux {platform.release()}"


if __name__ == "__main__":
    sys.exit(main())
