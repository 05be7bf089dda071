"""The setups of the ring benchmark: how each is prepared and started. A setup is prepared
(binaries copied, modules made distinct, artifact cache warmed) before its measured launch,
then launch() starts its processes and returns their Popen objects.

Per-operator binaries and modules are byte-distinct copies unless the setup's name ends in
"-shared": page-cache pages belong to an inode, so N processes of one file share their code
pages (and N modules of the same bytes share one compiled artifact), which flatters them.

The wasm setups whose name ends in "-rust" run the ring written in Rust (operators/ring-rust,
docs/sdk-rust.md) instead of the C++ one, in the same host with the same flags.

With a memory cgroup (Setup.cgroup, made by the harness for each run), every process the
setup spawns, the artifact-cache warm-up host included, starts inside it, and
evict_page_cache() drops the page cache of the setup's own files just before launch so the
cgroup is charged for what the setup itself reads.
"""
import functools
import json
import os
import shutil
import signal
import subprocess
import time

import probe

WASM_SETUPS = ("wasm-resident", "wasm-swap")
PER_OPERATOR_PROCESS = ("client-go", "native")
RUST = "-rust"
# wasm-swap-defaults: wasm-swap at the host's own swap settings (idle period, prediction)
# instead of the harness's --swap-idle-ms / --swap-predict.
HOST_DEFAULTS = "-defaults"
# wasm-swap-budget: the host's defaults plus its memory budget (--swap-memory-budget-mib, the
# harness's --swap-budget-mib): least recently active operators out first above it.
HOST_BUDGET = "-budget"
# wasm-swap-ns-watches: the host's defaults but one watch per namespace always
# (--cluster-wide-watch-after 0), against the defaults' one cluster-wide watch past 32 namespaces.
HOST_NS_WATCHES = "-ns-watches"
ALL = ("client-go", "native", "combined", "controller-runtime-combined", "wasm-resident", "wasm-swap",
       "wasm-swap-defaults", "wasm-swap-budget", "wasm-swap-ns-watches", "wasm-resident-rust", "wasm-swap-rust")
# One process for all N operators, so a namespace's watch (and the connection) serves every
# operator that reads it: the sharing a process per operator cannot have.
COMBINED = ("combined", "controller-runtime-combined")  # no -shared variant: one binary, one process
ONE_PROCESS = COMBINED + WASM_SETUPS


def watch_sharing(setup):
    """How the setup's watches are shared, in a few words for the report."""
    if mode(setup) in ONE_PROCESS:
        return "shared (one process)"
    return "none (a process each)"


def base_name(setup):
    return setup[: -len("-shared")] if setup.endswith("-shared") else setup


def mode(setup):
    """How a setup runs, whatever the language of its module or its swap settings:
    wasm-swap-rust -> wasm-swap, wasm-swap-defaults -> wasm-swap."""
    base = base_name(setup)
    for suffix in (HOST_DEFAULTS, HOST_BUDGET, HOST_NS_WATCHES):
        if base.endswith(suffix) and base[: -len(suffix)] in WASM_SETUPS:
            return base[: -len(suffix)]
    return base[: -len(RUST)] if base.endswith(RUST) and base[: -len(RUST)] in WASM_SETUPS else base


def ring_module(build, setup):
    """The ring module a wasm setup runs: the Rust one for the -rust setups."""
    return os.path.join(build, "wasm", "ring-rust.wasm" if base_name(setup).endswith(RUST) else "ring.wasm")


def ring_ns(i, n):
    return f"ring-{i % n}"


def copies(path, n, workdir, shared):
    """n paths to the executable or module at path: n distinct files, or path n times."""
    if shared:
        return [path] * n
    os.makedirs(os.path.join(workdir, "copies"), exist_ok=True)
    out = []
    for i in range(n):
        dest = os.path.join(workdir, "copies", f"{i}-{os.path.basename(path)}")
        shutil.copy2(path, dest)
        out.append(dest)
    return out


def leb128(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def distinct_module(src, dest, index):
    """A copy of a wasm module with a custom section "wop-bench-copy" holding index, so each
    copy's bytes (and so its compiled artifact) differ while the code stays the same."""
    name = b"wop-bench-copy"
    payload = leb128(len(name)) + name + str(index).encode()
    with open(src, "rb") as f:
        module = f.read()
    with open(dest, "wb") as f:
        f.write(module + b"\x00" + leb128(len(payload)) + payload)


@functools.lru_cache(maxsize=None)
def host_usage(host):
    """The host's `run --help`, asked once per binary (setups and settings read it often)."""
    out = subprocess.run([host, "run", "--help"], capture_output=True, text=True)
    return out.stdout + out.stderr


class Setup:
    def __init__(self, name, build, exe_clientgo, kubeconfig, workdir, n, options, exe_crcombined=None):
        self.name, self.base, self.shared = name, base_name(name), name.endswith("-shared")
        self.mode = mode(name)  # the base without -rust: what to run, not in which language
        self.host_budget = self.base.endswith(HOST_BUDGET)
        self.host_ns_watches = self.base.endswith(HOST_NS_WATCHES)
        self.host_swap_defaults = self.base.endswith(HOST_DEFAULTS) or self.host_budget or self.host_ns_watches
        self.build, self.clientgo, self.kubeconfig = build, exe_clientgo, kubeconfig
        self.crcombined = exe_crcombined
        self.cgroup = None  # a memory cgroup folder every spawned process starts in, or None
        self.workdir, self.n, self.options = workdir, n, options
        self.host = os.path.join(build, "host", "wasm-operator")
        self.native = os.path.join(build, "bench", "native-ring")
        self.logs = []
        self.notes = []
        self.own_part_files = []  # client-go: one per process, written at exit
        # Where the measured host serves /readyz (a free port; wasm setups only): the harness
        # times start-up to its first 200.
        self.health_address = None
        self.cold_ready_s = None  # launch to /readyz of the warm-up host, when this setup ran one

    def skip_reason(self):
        """None if this setup can run here, else the one line saying why it is skipped."""
        if self.base == "client-go":
            return None if self.clientgo and os.access(self.clientgo, os.X_OK) else "no client-go binary"
        if self.base == "controller-runtime-combined":
            return None if self.crcombined and os.access(self.crcombined, os.X_OK) else "no controller-runtime binary"
        if self.base in ("native", "combined"):
            if not os.access(self.native, os.X_OK):
                return f"no native executable at {self.native}"
            out = subprocess.run([self.native, "--help"], capture_output=True, text=True)
            usage = out.stdout + out.stderr  # stdout since its flags are declared in server/
            if self.rate_flags() and "--qps" not in usage:
                return "native-ring has no --qps (use --client-qps default)"
            return None
        if not os.access(self.host, os.X_OK):
            return f"no host binary at {self.host}"
        if not os.path.exists(ring_module(self.build, self.name)):
            return f"no module at {ring_module(self.build, self.name)}"
        if self.rate_flags() and "--qps" not in host_usage(self.host):
            return "host has no --qps (use --client-qps default)"
        if self.mode == "wasm-swap" and "--swap-idle-ms" not in host_usage(self.host):
            return "host has no --swap-idle-ms"
        return None

    def rate_flags(self):
        """The same client rate limit for every setup: --client-qps (negative: no limiter), or
        each implementation's own default with --client-qps default."""
        if self.options.client_qps == "default":
            return []
        return ["--qps", self.options.client_qps, "--burst", str(self.options.client_burst)]

    def _spawn(self, argv, label):
        log_path = os.path.join(self.workdir, f"{label}.log")
        self.logs.append(log_path)
        log = open(log_path, "wb")
        join = None
        if self.cgroup:
            procs = os.path.join(self.cgroup, "cgroup.procs")

            def join():  # in the child, before exec: its memory is charged to the cgroup from the start
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=join)

    # --------------------------------------------------------------------- preparation

    def prepare(self):
        if self.base in PER_OPERATOR_PROCESS:
            exe = self.clientgo if self.base == "client-go" else self.native
            self.executables = copies(exe, self.n, self.workdir, self.shared)
        elif self.mode in WASM_SETUPS:
            self._write_definitions()
            if getattr(self.options, "cold_artifacts", False):
                self.notes.append("artifact cache cold: the measured launch compiles every module")
            else:
                self._warm_artifacts()

    def _write_definitions(self):
        ring = ring_module(self.build, self.name)
        modules = os.path.join(self.workdir, "modules")
        self.definitions = os.path.join(self.workdir, "operators")
        os.makedirs(modules, exist_ok=True)
        os.makedirs(self.definitions, exist_ok=True)
        for i in range(self.n):
            module = ring
            if not self.shared:
                module = os.path.join(modules, f"ring-{i}.wasm")
                distinct_module(ring, module, i)
            doc = {"apiVersion": "wasm-operator.dev/v1alpha1", "kind": "WasmOperator",
                   "metadata": {"name": f"ring-{i}"},
                   "spec": {"module": {"path": module}, "trusted": True,
                            "config": {"inputNamespace": ring_ns(i, self.n), "outputNamespace": ring_ns(i + 1, self.n)}}}
            with open(os.path.join(self.definitions, f"ring-{i:04d}.yaml"), "w") as f:
                json.dump(doc, f)  # JSON is YAML
        self.artifacts = os.path.join(self.workdir, "artifacts")
        self.swap_dir = os.path.join(self.workdir, "swap")

    def _host_argv(self, status_file):
        argv = [self.host, "run", "--operators", self.definitions, "--kubeconfig", self.kubeconfig,
                "--artifact-dir", self.artifacts, "--status-file", status_file, *self.rate_flags()]
        if self.mode == "wasm-resident":
            if "--swap on|off" in host_usage(self.host):
                argv += ["--swap", "off"]
            else:
                self.notes.append("host has no --swap flag: ran without it (no swapping exists there)")
        else:
            swap_dir = self.swap_dir
            os.makedirs(swap_dir, exist_ok=True)
            argv += ["--swap", "on", "--swap-dir", swap_dir]
            if not self.host_swap_defaults:
                argv += ["--swap-idle-ms", str(self.options.swap_idle_ms), "--swap-predict", self.options.swap_predict]
            if self.host_budget:
                argv += ["--swap-memory-budget-mib", str(self.options.swap_budget_mib)]
        if self.host_ns_watches:
            argv += ["--cluster-wide-watch-after", "0"]
        return argv

    def _warm_artifacts(self):
        """Runs the host once until it has loaded every module, so the measured run maps
        compiled artifacts from the cache and no compiler memory is measured. With
        options.artifact_seed (a folder), the first run of the harness fills the seed and later
        ones copy it instead (the same N makes the same distinct modules, byte for byte)."""
        seed = getattr(self.options, "artifact_seed", None)
        if seed and os.path.isdir(seed) and os.listdir(seed):
            shutil.copytree(seed, self.artifacts, dirs_exist_ok=True)
            self.notes.append(f"artifact cache copied from an earlier run's warm-up: {len(os.listdir(self.artifacts))} entries")
            return
        self._warm_by_running()
        if seed:
            shutil.copytree(self.artifacts, seed, dirs_exist_ok=True)

    def _warm_by_running(self):
        """The warm-up is a cold start: its time to /readyz (compiling every module) is kept
        as self.cold_ready_s."""
        status_file = os.path.join(self.workdir, "warm-status.json")
        address = f"127.0.0.1:{probe.free_port()}"
        started = time.monotonic()
        host = self._spawn(self._host_argv(status_file) + ["--health-probe-bind-address", address], "warm-host")
        ready = probe.ReadyProbe(address)
        ready.start()
        deadline = time.monotonic() + 60 + 3 * self.n
        while not (self._all_loaded(status_file) and ready.ready_at):
            if host.poll() is not None or time.monotonic() > deadline:
                host.kill()
                ready.stop()
                raise RuntimeError(f"{self.name} N={self.n}: warming the artifact cache failed (log: {self.logs[-1]})")
            time.sleep(0.2)
        ready.stop()
        self.cold_ready_s = round(ready.ready_at - started, 3)
        host.send_signal(signal.SIGTERM)
        host.wait(timeout=60)
        self.notes.append(f"artifact cache entries after warming: {len(os.listdir(self.artifacts))}")

    def _all_loaded(self, status_file):
        try:
            with open(status_file) as f:
                return len(json.load(f)["operators"]) == self.n
        except (OSError, ValueError, KeyError):
            return False

    def own_files(self):
        """The files the measured launch reads that belong to this setup: its folder (copied
        binaries, modules, the artifact cache) and the executables it runs."""
        exes = {self.clientgo if self.base == "client-go" else None,
                self.native if self.base in ("native", "combined") else None,
                self.crcombined if self.base == "controller-runtime-combined" else None,
                self.host if self.mode in WASM_SETUPS else None}
        out = [e for e in exes if e]
        for folder, _, files in os.walk(self.workdir):
            out += [os.path.join(folder, f) for f in files if not f.endswith(".log")]
        return out

    def evict_page_cache(self):
        """Writes back and drops the page cache of own_files(), so that what the launch reads
        is read (and charged to the run's cgroup) again rather than found in the cache."""
        for path in self.own_files():
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)  # dirty pages cannot be dropped
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass
            finally:
                os.close(fd)

    # --------------------------------------------------------------------------- launch

    def launch(self):
        """Starts the setup's processes; self.logs[-len(result):] are their logs, in order."""
        k, n = self.kubeconfig, self.n
        if self.base in PER_OPERATOR_PROCESS:
            # client-go writes its own part of each hop at exit (own_part.py); native does not.
            if self.base == "client-go":
                self.own_part_files = [os.path.join(self.workdir, f"own-part-{i}.txt") for i in range(n)]
            own = [["--own-part-file", path] for path in self.own_part_files] or [[]] * n
            return [self._spawn([exe, "--kubeconfig", k, "--input-namespace", ring_ns(i, n),
                                 "--output-namespace", ring_ns(i + 1, n), *self.rate_flags(), *own[i]], f"op-{i}")
                    for i, exe in enumerate(self.executables)]
        if self.base == "combined":
            return [self._spawn([self.native, "--kubeconfig", k, "--ring", str(n), *self.rate_flags()], "combined")]
        if self.base == "controller-runtime-combined":
            return [self._spawn([self.crcombined, "--kubeconfig", k, "--ring", str(n), *self.rate_flags()],
                                "controller-runtime-combined")]
        self.health_address = f"127.0.0.1:{probe.free_port()}"
        argv = self._host_argv(os.path.join(self.workdir, "status.json"))
        return [self._spawn(argv + ["--health-probe-bind-address", self.health_address], "host")]

    def host_summary(self):
        """For wasm setups: totals over operators from the host's status file (written every
        second), e.g. how many swap-outs and restores happened; None otherwise."""
        try:
            with open(os.path.join(self.workdir, "status.json")) as f:
                status = json.load(f)
            operators = status["operators"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        totals = {k: sum(o.get(k, 0) for o in operators) for k in ("reconciles", "reconcileErrors", "restarts")}
        totals["memory"] = status.get("memory")  # the host's own view: heap in use, caches, linear memories
        totals["watches"] = status.get("watches")  # informers open, resources watched cluster-wide
        totals["modules"] = status.get("modules")  # compiled, mapped from disk, shared, parked
        for k in ("swapOuts", "restores", "prefetches", "prefetchesWasted", "prefetchesSentOutByBudget", "prefetchesSkipped", "wakesSwapped", "wakesResident", "swappable", "swappedOut"):
            totals[k] = sum(int(o.get("swap", {}).get(k, 0)) for o in operators)
        # Time spent restoring and swapping out (warm-up cycles included, as in the counts).
        for k in ("restoreMsTotal", "swapOutMsTotal"):
            totals[k] = round(sum(float(o.get("swap", {}).get(k, 0)) for o in operators), 1)
        return totals

    def log_tail(self, lines=15):
        if not self.logs:
            return ""
        with open(self.logs[-1], "rb") as f:
            return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])


def stop(processes, grace=10):
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in processes:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
