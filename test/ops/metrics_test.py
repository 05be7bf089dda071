#!/usr/bin/env python3
"""/metrics, /healthz and /readyz of a real host (issue 14): a ring of 3 operators and the
replicator against the test control plane, swapping out after every reconcile. The page is
parsed with Prometheus' own Python parser (prometheus_client) before and after the workload,
and the figures must have moved as the workload moved them: reconciles, queue adds and
durations, API requests, swap-outs and restores. A slow client must not stop a scrape; every
log line must be JSON naming its operator; SIGTERM must end the host cleanly.

  /usr/bin/python3 test/ops/metrics_test.py BUILD KUBE_BIN"""
import json
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

import harness

CONTROLLER_RUNTIME = [
    "controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
    "controller_runtime_terminal_reconcile_errors_total",
    "controller_runtime_reconcile_time_seconds", "controller_runtime_active_workers",
    "workqueue_depth", "workqueue_adds_total", "workqueue_queue_duration_seconds",
    "workqueue_work_duration_seconds", "workqueue_retries_total", "rest_client_requests_total",
]
OURS = [
    "wasm_operator_resident_bytes", "wasm_operator_swapped", "wasm_operator_swap_outs_total",
    "wasm_operator_restores_total", "wasm_operator_swap_out_duration_seconds",
    "wasm_operator_restore_duration_seconds", "wasm_operator_prediction_hits_total",
    "wasm_operator_prediction_misses_total", "wasm_operator_traps_total", "wasm_operator_restarts_total",
    "wasm_operator_informer_cache_bytes", "wasm_operator_informer_cache_objects",
    "wasm_operator_informer_index_bytes",
    "wasm_operator_watch_restarts_total", "wasm_operator_relists_total", "wasm_operator_artifact_cache_bytes",
]


def family_name(name):
    # prometheus_client names counter families without their _total suffix.
    return name[:-len("_total")] if name.endswith("_total") else name


def scrape(address):
    status, body = harness.http_get(address, "/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}: {body[:200]}")
    samples, families = {}, {}
    for family in text_string_to_metric_families(body):
        families[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples, families


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def total(samples, name, **labels):
    """Sum over every series of name whose labels include the given ones."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def grew(before, after, name, **labels):
    return total(after, name, **labels) - total(before, name, **labels)


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    checks = harness.Checks()
    env = harness.Environment(build, kube_bin, "ops-metrics")
    workload = env.workload()
    host = env.host("host", ["--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address",
                             "127.0.0.1:0", "--log-format", "json"])
    host.start()
    try:
        metrics = host.logged_address("metrics")
        probes = host.logged_address("health probes")
        if not checks.check("the host logs where it serves metrics and probes", metrics and probes,
                            host.log_tail(5)):
            return checks.finish()
        checks.check("/healthz answers ok", harness.http_get(probes, "/healthz") == (200, "ok"))
        ready = harness.eventually(lambda: harness.http_get(probes, "/readyz")[0] == 200, 60)
        checks.check("/readyz turns ready once operators are loaded and synced", ready,
                     harness.http_get(probes, "/readyz?verbose"))
        verbose = harness.http_get(probes, "/readyz?verbose")[1]
        checks.check("/readyz?verbose lists the operators and informers checks",
                     "[+]operators ok" in verbose and "[+]informers ok" in verbose, verbose)
        checks.check("/readyz/informers runs one check", harness.http_get(probes, "/readyz/informers")[0] == 200)

        ok, _ = workload.wait_ready(60)
        checks.check("round 1 and the first copies arrive", ok)
        before, families = scrape(metrics)
        for name in CONTROLLER_RUNTIME + OURS:
            checks.check(f"{name} is exported", family_name(name) in families, sorted(families)[:8])
        checks.check("reconcile_time is a histogram",
                     families.get("controller_runtime_reconcile_time_seconds") == "histogram")

        workload.start()
        workload.join()
        time.sleep(1)  # the last swap-outs
        slow = harness.slow_client(metrics)
        started = time.monotonic()
        after, _ = scrape(metrics)
        took = time.monotonic() - started
        checks.check("a scrape beside a slowloris client answers within 1 s", took < 1.0, f"{took:.2f} s")
        slow.close()

        rounds = workload.rounds
        for op in ("ring-0", "ring-1", "ring-2"):
            n = grew(before, after, "controller_runtime_reconcile_total", controller=op, result="success")
            checks.check(f"{op}: reconcile_total{{result=success}} grew by at least the rounds ({rounds})",
                         n >= rounds, n)
        for name in ("workqueue_adds_total", "controller_runtime_reconcile_time_seconds_count",
                     "workqueue_queue_duration_seconds_count", "workqueue_work_duration_seconds_count",
                     "wasm_operator_swap_outs_total", "wasm_operator_restores_total",
                     "wasm_operator_restore_duration_seconds_count"):
            n = grew(before, after, name, controller="ring-1")
            checks.check(f"ring-1: {name} grew", n > 0, n)
        count = value(after, "controller_runtime_reconcile_time_seconds_count", controller="ring-1")
        inf = value(after, "controller_runtime_reconcile_time_seconds_bucket", controller="ring-1", le="+Inf")
        checks.check("the +Inf bucket holds every reconcile", count is not None and count == inf, (count, inf))
        n = grew(before, after, "controller_runtime_reconcile_total", controller="replicator")
        checks.check("replicator: reconciles grew with its changes", n > 0, n)
        writes = sum(grew(before, after, "rest_client_requests_total", method=m) for m in ("PUT", "PATCH", "POST"))
        checks.check("rest_client_requests_total counts the operators' writes", writes >= rounds, writes)
        ok_codes = total(after, "rest_client_requests_total", code="200") + \
            total(after, "rest_client_requests_total", code="201")
        checks.check("rest_client_requests_total has 2xx codes", ok_codes > 0, ok_codes)
        checks.check("the informers' caches hold objects", total(after, "wasm_operator_informer_cache_objects") > 0)
        checks.check("the artifact cache has bytes", total(after, "wasm_operator_artifact_cache_bytes") > 0)
        checks.check("no operator trapped", total(after, "wasm_operator_traps_total") == 0)
        checks.check("workqueue_depth is back to 0 at rest",
                     harness.eventually(lambda: total(scrape(metrics)[0], "workqueue_depth") == 0, 10))
        checks.check("a method other than GET is refused and the server still serves",
                     harness.http_post(metrics, "/metrics") == 405 and harness.http_get(metrics, "/metrics")[0] == 200)
    finally:
        stopped_at = time.monotonic()
        host.stop()
        stop_s = time.monotonic() - stopped_at
        workload.stop()
    checks.check("SIGTERM ends the host with exit 0", host.proc.returncode == 0 and not host.crashes,
                 (host.proc.returncode, host.crashes))
    checks.check("the shutdown took under 5 s", stop_s < 5, f"{stop_s:.1f} s")
    parsed = []
    for line in harness.log_lines(host.log_path):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            checks.check("every log line is JSON", False, line[:200])
            break
    checks.check("every JSON line has ts, level, operator and msg",
                 parsed and all({"ts", "level", "operator", "msg"} <= set(p) for p in parsed), harness.dump(parsed[:2]))
    checks.check("operator lines name their operator", any(p.get("operator") == "ring-0" for p in parsed))
    checks.finish()


if __name__ == "__main__":
    main()
