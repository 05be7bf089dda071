"""The cost of an upgrade under load. A ring of 3 WasmOperators (ring.wasm from a path; operator
i reads <p>-i and writes <p>-(i+1 mod 3)); a driver writes a new nonce into one of K keys of
<p>-0, round robin, at a fixed rate, without waiting for the copies. The run is cut into
segments of equal length in shuffled order: in an upgrade segment, operator 1 gets a new
generation at the segment's start (spec.module.path = a byte-distinct copy of ring.wasm, so
the host compiles it); a baseline segment changes nothing.

Per round through operator 1: delay = when <p>-2 showed the nonce minus when <p>-1 showed it
(both from the harness's watch), filed under the segment in which <p>-1 showed it. The same
for operator 0 (<p>-0 -> <p>-1), which is not upgraded: what the upgrade costs its neighbours."""
import os
import threading
import time

import cluster
from kube import ApiError


class Driver:
    """Writes nonce j (2, 3, ...) into key j mod K of namespace ns every 1/rate s."""

    def __init__(self, api, ns, keys, rate):
        self.api, self.ns, self.keys, self.period = api, ns, keys, 1.0 / rate
        self.writes = []  # (key, nonce, monotonic time the request was sent)
        self.errors = []
        self.last = {k: 1 for k in keys}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def _run(self):
        start, j = time.monotonic(), 2
        while not self.stopping.is_set():
            key = self.keys[j % len(self.keys)]
            sent = time.monotonic()
            try:
                cluster.set_nonce(self.api, self.ns, key, j)
                self.writes.append((key, j, sent))
                self.last[key] = j
            except ApiError as e:
                self.errors.append(str(e))
            j += 1
            time.sleep(max(0.0, start + (j - 2) * self.period - time.monotonic()))


class UpgradeBench:
    def __init__(self, ctx, args):
        self.ctx, self.args = ctx, args
        self.prefix = "bench-api-up"
        self.ns = [f"{self.prefix}-{i}" for i in range(3)]
        self.keys = [f"k{k}" for k in range(args.keys)]
        self.names = [f"{self.prefix}-ring-{i}" for i in range(3)]

    def set_up(self):
        ctx = self.ctx
        for ns in self.ns:
            ctx.api.create_namespace(ns)
        for key in self.keys:
            cluster.set_nonce(ctx.api, self.ns[0], key, 1, create=True)
        for i, name in enumerate(self.names):
            ctx.api.post(cluster.WASMOPERATORS, cluster.wasm_operator(
                name, {"path": ctx.ring_wasm}, f"ring-{i}",
                {"inputNamespace": self.ns[i], "outputNamespace": self.ns[(i + 1) % 3]}))
        for key in self.keys:
            if not ctx.watches.nonces.wait((self.ns[2], key), lambda v: v >= 1, 60):
                raise RuntimeError(f"the ring did not carry {key} to {self.ns[2]}: {ctx.host.log_tail(5)}")

    def run(self, rng):
        ctx, args = self.ctx, self.args
        self.set_up()
        order = ["upgrade"] * args.upgrades + ["baseline"] * args.upgrades
        rng.shuffle(order)
        modules = []
        for u in range(args.upgrades):  # written before the run: not timed
            path = os.path.join(ctx.workdir, f"upgrade-{u}.wasm")
            modules.append((path, cluster.distinct_module(ctx.ring_wasm, path)))
        driver = Driver(ctx.api, self.ns[0], self.keys, args.rate)
        driver.start()
        time.sleep(args.warmup_s)
        segments, generation = [], 1
        for kind in order:
            seg = {"kind": kind, "start": time.monotonic()}
            if kind == "upgrade":
                path, sha = modules[len([s for s in segments if s["kind"] == "upgrade"])]
                generation += 1
                seg.update({"generation": generation, "module_sha256": sha, "wall": time.time()})
                seg["patch_sent"] = time.monotonic()
                ctx.api.merge_patch(f"{cluster.WASMOPERATORS}/{self.names[1]}", {"spec": {"module": {"path": path}}})
            time.sleep(max(0.0, seg["start"] + args.segment_s - time.monotonic()))
            seg["end"] = time.monotonic()
            segments.append(seg)
        driver.stop()
        lost = self.converge(driver)
        return self.results(driver, segments, lost, order)

    def converge(self, driver, timeout=60):
        """Acknowledged writes missing from <p>-1 and <p>-2 once the ring has settled (by GET)."""
        ctx = self.ctx
        for key, last in driver.last.items():
            for ns in self.ns[1:]:
                ctx.watches.nonces.wait((ns, key), lambda v, last=last: v >= last, timeout)
        missing = {}
        for key, last in driver.last.items():
            for ns in self.ns:
                held = cluster.nonce_of(ctx.api, ns, key)
                if held < last:
                    missing[f"{ns}/{key}"] = last - held
        keys = [(ns, k) for ns in self.ns for k in self.keys]
        return {"lost": sum(missing.values()), "missing": missing, "duplicates": ctx.watches.nonces.duplicates(keys),
                "writes": len(driver.writes), "write_errors": driver.errors[:5]}

    def delays(self, driver, hop):
        """[(time the input showed it, delay s)] of every round through operator hop."""
        w = self.ctx.watches.nonces
        out = []
        for key, j, _ in driver.writes:
            t_in = w.first_time((self.ns[hop], key), lambda v, j=j: v >= j)
            t_out = w.first_time((self.ns[hop + 1], key), lambda v, j=j: v >= j)
            if t_in is not None and t_out is not None:
                out.append((t_in, t_out - t_in))
        return out

    def results(self, driver, segments, lost, order):
        ctx = self.ctx
        records = cluster.log_records(ctx.host)
        art = cluster.artifacts(ctx.host.artifacts)
        for seg in segments:
            if seg["kind"] != "upgrade":
                continue
            g, name = seg["generation"], self.names[1]
            logged = [at for at, who, msg in records
                      if who == name and msg.startswith(f"upgraded from WasmOperator generation {g} ")]
            seg["upgraded_log_s"] = logged[0] - seg["wall"] if logged else None
            running = ctx.watches.running_at(name, g)
            seg["status_running_s"] = running - seg["patch_sent"] if running else None
            compiled = [m for m in art.values() if seg["wall"] <= m <= seg["wall"] + self.args.segment_s]
            seg["compiled_s"] = min(compiled) - seg["wall"] if compiled else None
        rounds = {}
        for hop in (0, 1):
            rows = []
            for t_in, delay in self.delays(driver, hop):
                seg = next((i for i, s in enumerate(segments) if s["start"] <= t_in < s["end"]), None)
                if seg is not None:
                    rows.append({"segment": seg, "at_s": t_in - segments[0]["start"], "delay_ms": delay * 1e3})
            rounds[f"operator_{hop}"] = rows
        origin = segments[0]["start"]
        for seg in segments:
            for k in ("start", "end", "patch_sent"):
                if k in seg:
                    seg[k] = seg[k] - origin
            seg.pop("wall", None)
        return {"segments": segments, "rounds": rounds, "check": lost, "order": order,
                "operators": self.names, "upgraded": self.names[1]}
