"""Apply -> first reconcile: a WasmOperator object is created while a TestResource already waits
in the ring operator's input namespace; its first reconcile is when the harness's watch
delivers the copy in the output namespace.

Kinds (each repetition a new object, new namespaces, the same host):
  path          spec.module.path = ring.wasm, compiled earlier (in the artifact cache)
  image-cached  an image by digest that an earlier object pulled (in the module store and
                the artifact cache): no request to the registry, nothing compiled
  image-cold    an image by digest pushed just before (not timed): a byte-distinct ring.wasm,
                so the host fetches (manifest, pull Secret read as the ServiceAccount, layer)
                and compiles
  path-kubectl  as path, created by `kubectl apply -f -` instead of a POST: the time includes
                kubectl's start, discovery and its request"""
import json
import os
import subprocess
import time

import cluster
from registry import push_wasm

KINDS = ("path", "image-cached", "image-cold", "path-kubectl")
REPO_CACHED, REPO_COLD = "bench/ring", "bench/ring-cold"


class ApplyBench:
    def __init__(self, ctx):
        self.ctx = ctx  # api, host, watches, registry, kubectl, ring_wasm, workdir, timeout_s
        self.cached_digest = None

    # ------------------------------------------------------------ preparation (not timed)

    def prepare(self):
        """One object of each source first, not measured: ring.wasm compiled into the artifact
        cache, the cached image pulled into the store, the registry connection path used once."""
        ctx = self.ctx
        self.cached_digest = push_wasm(ctx.registry, REPO_CACHED, "v1", ctx.ring_wasm)
        warm = []
        for kind in ("path", "image-cached", "image-cold"):
            run = self.one(kind, f"warm-{kind}")
            warm.append(run)
            if run.get("error"):
                raise RuntimeError(f"warm-up {kind}: {run['error']}")
        return warm

    def module_for(self, kind, label):
        ctx = self.ctx
        if kind in ("path", "path-kubectl"):
            return {"path": ctx.ring_wasm}, None
        if kind == "image-cached":
            return cluster.image_module(ctx.registry, REPO_CACHED, self.cached_digest), None
        copy = os.path.join(ctx.workdir, f"cold-{label}.wasm")
        sha = cluster.distinct_module(ctx.ring_wasm, copy)
        digest = push_wasm(ctx.registry, REPO_COLD, label, copy)
        return cluster.image_module(ctx.registry, REPO_COLD, digest), sha

    # ------------------------------------------------------------ one repetition

    def one(self, kind, label):
        ctx = self.ctx
        name = f"bench-api-{label}"
        ns_in, ns_out = f"{name}-in", f"{name}-out"
        for ns in (ns_in, ns_out):
            ctx.api.create_namespace(ns)
        cluster.set_nonce(ctx.api, ns_in, "ring", 1, create=True)
        if not ctx.watches.nonces.wait((ns_in, "ring"), lambda v: v == 1, 30):
            return {"kind": kind, "label": label, "error": "the waiting object never showed in the watch"}
        module, cold_sha = self.module_for(kind, label)
        doc = cluster.wasm_operator(name, module, "ring-0", {"inputNamespace": ns_in, "outputNamespace": ns_out})
        before = cluster.artifacts(ctx.host.artifacts)
        time.sleep(ctx.settle_s)
        wall0, t0 = time.time(), time.monotonic()
        if kind == "path-kubectl":
            done = subprocess.run(ctx.kubectl + ["apply", "-f", "-"], input=json.dumps(doc), capture_output=True,
                                  text=True)
            if done.returncode != 0:
                return {"kind": kind, "label": label, "error": done.stderr.strip()}
        else:
            ctx.api.post(cluster.WASMOPERATORS, doc)
        created_s = time.monotonic() - t0
        reached = ctx.watches.nonces.wait((ns_out, "ring"), lambda v: v >= 1, ctx.timeout_s)
        run = {"kind": kind, "label": label, "create_s": created_s}
        if not reached:
            run["error"] = f"no copy in {ns_out} within {ctx.timeout_s} s; host log: {ctx.host.log_tail(3)}"
            return run
        run["first_reconcile_s"] = ctx.watches.nonces.first_time((ns_out, "ring"), lambda v: v >= 1) - t0
        running = ctx.watches.operators.wait(("", name), lambda v: v == (1, "Running"), 15)
        run["status_running_s"] = ctx.watches.running_at(name, 1) - t0 if running else None
        run.update(self.split(name, wall0, before, cold_sha))
        status = (ctx.api.get(f"{cluster.WASMOPERATORS}/{name}").get("status") or {})
        run["module_digest"] = status.get("moduleDigest")
        if cold_sha and run["module_digest"] != "sha256:" + cold_sha:
            run["error"] = f"status.moduleDigest is {run['module_digest']}, not the pushed module's sha256:{cold_sha}"
        if not cluster.delete_and_wait_unloaded(ctx.api, ctx.host, name):
            run["error"] = "not unloaded within 30 s of its deletion"
        return run

    def split(self, name, wall0, before, cold_sha):
        """Where the time went, from the host's log (ms timestamps) and its files' mtimes,
        relative to the request's start."""
        ctx = self.ctx
        fetching = cluster.logged_at(ctx.host, name, "fetching the module from")
        loaded = cluster.logged_at(ctx.host, name, "loaded from WasmOperator generation 1")
        new = {k: v for k, v in cluster.artifacts(ctx.host.artifacts).items() if k not in before}
        out = {"fetch_started_s": fetching - wall0 if fetching else None,
               "loaded_s": loaded - wall0 if loaded else None,
               "fetched": fetching is not None, "compiled_artifacts": len(new)}
        if cold_sha:
            stored = cluster.stored_module_mtime(ctx.host.artifacts, cold_sha)
            out["module_sha256"] = cold_sha
            out["stored_s"] = stored - wall0 if stored else None
            out["compiled_s"] = max(new.values()) - wall0 if new else None
        reqs = [r for r in cluster.registry_requests(ctx.registry, wall0) if r[0] < wall0 + ctx.timeout_s]
        out["registry_requests"] = [{"start_s": a - wall0, "end_s": b - wall0, "method": m, "what": w, "status": st}
                                    for a, b, m, w, st in reqs]
        return out
