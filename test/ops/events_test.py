#!/usr/bin/env python3
"""Lifecycle Events of a real host (issue 14, part 3), file mode: with POD_NAME and
POD_NAMESPACE set (the Pod need not exist) the host writes events.k8s.io/v1 Events regarding
that Pod. Three operators: a good one (Loaded), a file that is not Wasm (Refused, naming the
reason the host logged) and one whose wop_init spins past its entry time limit on every start
(Trapped and BackOff, each one Event object whose series.count grows, not one Event per
trap). /metrics carries the dropped-Events counter; SIGTERM ends the host cleanly.

  /usr/bin/python3 test/ops/events_test.py BUILD KUBE_BIN"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import harness

NAMESPACE = "ops-events"
EVENTS = "/apis/events.k8s.io/v1/namespaces/default/events"


def definitions(build, workdir):
    not_wasm = os.path.join(workdir, "not-wasm.wasm")
    with open(not_wasm, "w") as f:
        f.write("this is not a WebAssembly module\n")
    spin = os.path.join(harness.ROOT, "test", "guests", "hostile", "spin_init.wat")
    docs = [
        {"metadata": {"name": "good"},
         "spec": {"module": {"path": os.path.join(build, "wasm", "counter.wasm")}, "trusted": True,
                  "config": {"namespace": NAMESPACE}}},
        {"metadata": {"name": "bad"}, "spec": {"module": {"path": not_wasm}, "trusted": True}},
        {"metadata": {"name": "spinner"},
         "spec": {"module": {"path": spin}, "trusted": True, "limits": {"memoryMiB": 16, "entryTimeoutMs": 200}}},
    ]
    for d in docs:
        d.update({"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator"})
    path = os.path.join(workdir, "operators.yaml")
    with open(path, "w") as f:
        f.write("\n---\n".join(json.dumps(d) for d in docs) + "\n")
    return path


def pod_events(api, pod):
    """Our Pod's Events by (reason, operator named in the note)."""
    items = api.get(EVENTS).get("items", [])
    return [e for e in items if e.get("regarding", {}).get("name") == pod]


def find(events, reason, operator):
    return [e for e in events if e.get("reason") == reason and f" {operator}" in e.get("note", "")]


def count(event):
    return (event.get("series") or {}).get("count", 1)


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    checks = harness.Checks()
    plane = os.environ.get("WOP_TESTENV_DIR") or os.path.join(build, "controlplane")
    kubeconfig = os.path.join(plane, "kubeconfig")
    api = harness.Api(kubeconfig)
    api.create_namespace(NAMESPACE)
    workdir = harness.scratch_folder("ops-events")
    pod = f"wasm-operator-events-{os.getpid()}"  # new each run: no Events of earlier runs
    env = dict(os.environ, POD_NAME=pod, POD_NAMESPACE="default", POD_UID="0b5e6a1c-events-test")
    log_path = os.path.join(workdir, "host.log")
    argv = [os.path.join(build, "host", "wasm-operator"), "run", "--kubeconfig", kubeconfig,
            "--operators", definitions(build, workdir), "--artifact-dir", os.path.join(workdir, "artifacts"),
            "--swap", "off", "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "0"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        started = time.monotonic()
        lines = lambda: harness.log_lines(log_path)  # noqa: E731
        checks.check("the host says which Pod its Events regard",
                     harness.eventually(lambda: any(f"Events regard Pod default/{pod}" in l for l in lines()), 30),
                     "\n".join(lines()[-5:]))

        # The first series flush comes 30 s after the first Event: by then the spinner trapped 5-6 times.
        def first_flush():
            events = pod_events(api, pod)
            trapped = find(events, "Trapped", "spinner")
            return events if trapped and count(trapped[0]) >= 3 else None
        events = harness.eventually(first_flush, 60, interval=1) or pod_events(api, pod)
        print(f"after {time.monotonic() - started:.0f} s: " +
              "; ".join(f"{e['reason']} x{count(e)}: {e['note'][:80]}" for e in events), flush=True)

        loaded = find(events, "Loaded", "good")
        checks.check("a Loaded Event (Normal) for the good operator",
                     len(loaded) == 1 and loaded[0]["type"] == "Normal" and loaded[0]["action"] == "Load",
                     harness.dump(events))
        refused = find(events, "Refused", "bad")
        logged = [l for l in lines() if "operator bad: " in l]
        reason = logged[0].split("operator bad: ", 1)[1].split('"')[0].split("\\n")[0] if logged else None
        checks.check("a Refused Event (Warning) naming why the bad file was refused",
                     len(refused) == 1 and refused[0]["type"] == "Warning" and reason
                     and reason[:40] in refused[0]["note"] and "not a WebAssembly module" in refused[0]["note"],
                     f"log: {reason!r}; events: {harness.dump(refused)}")
        trapped = find(events, "Trapped", "spinner")
        backoff = find(events, "BackOff", "spinner")
        checks.check("the spinner's traps are one Trapped Event (Warning) with a series",
                     len(trapped) == 1 and trapped[0]["type"] == "Warning" and count(trapped[0]) >= 3,
                     harness.dump(trapped))
        checks.check("the spinner's back-offs are one BackOff Event with a series",
                     len(backoff) == 1 and count(backoff[0]) >= 3, harness.dump(backoff))
        if trapped:
            checks.check("the Trapped note says what happened, on one line",
                         "wop_init" in trapped[0]["note"] and "\n" not in trapped[0]["note"], trapped[0]["note"])
        ok_fields = all(e["reportingController"] == "wasm-operator.dev/host" and e["reportingInstance"]
                        and e["regarding"] == {"kind": "Pod", "apiVersion": "v1", "namespace": "default",
                                               "name": pod, "uid": "0b5e6a1c-events-test"}
                        and e["metadata"]["name"].startswith(pod + ".") and e.get("eventTime")
                        for e in events)
        checks.check("every Event regards the Pod, from wasm-operator.dev/host", events and ok_fields,
                     harness.dump(events))

        if trapped:
            before = count(trapped[0])

            def grown():
                now = find(pod_events(api, pod), "Trapped", "spinner")
                return now if len(now) == 1 and count(now[0]) > before else None
            later = harness.eventually(grown, 100, interval=2)
            checks.check("series.count grows on the same Event object (no new Event per trap)",
                         later and later[0]["metadata"]["name"] == trapped[0]["metadata"]["name"],
                         f"count stayed {before}: {harness.dump(find(pod_events(api, pod), 'Trapped', 'spinner'))}")
        total = len(pod_events(api, pod))
        checks.check("few Event objects in all (one per operator and reason)", total <= 5, str(total))

        found = [m.group(1) for m in (re.search(r"metrics at http://([^/\s\"]+)", l) for l in lines()) if m]
        metrics = found[-1] if found else None
        status, body = harness.http_get(metrics, "/metrics") if metrics else (None, "")
        checks.check("/metrics counts dropped Events",
                     status == 200 and re.search(r'^wasm_operator_events_dropped_total\{reason="spam_filter"\} 0',
                                                 body, re.M), f"{status} {body[-300:]}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    checks.check("SIGTERM ends the host with exit 0", code == 0, "\n".join(harness.log_lines(log_path)[-8:]))
    return checks.finish()


if __name__ == "__main__":
    main()
