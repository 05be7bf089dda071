"""The faults of the chaos suite, one function each. A fault runs while the workload runs
(it starts fault_at seconds in), returns once the fault is cleared, and writes what it did
and saw into ctx.evidence. ctx: see run.Context."""
import ctypes
import glob
import os
import select
import struct
import subprocess
import sys
import time

IN_CREATE = 0x100
IN_MOVED_TO = 0x80
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def none(ctx):
    """The baseline: no fault."""


# ---------------------------------------------------------------------------- the host

def _watch_tmp_files(dirs, timeout):
    """Blocks until a *.tmp file (a snapshot layer being written) is created in one of dirs;
    returns its name, or None after timeout. inotify, so the kill follows within microseconds."""
    fd = _libc.inotify_init1(os.O_NONBLOCK)
    if fd < 0:
        return None
    try:
        for d in dirs:
            _libc.inotify_add_watch(fd, d.encode(), IN_CREATE | IN_MOVED_TO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                continue
            data = os.read(fd, 65536)
            offset = 0
            while offset < len(data):
                _, _, _, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16: offset + 16 + length].rstrip(b"\0").decode(errors="replace")
                offset += 16 + length
                if name.endswith(".tmp"):
                    return name
        return None
    finally:
        os.close(fd)


def kill9_mid_swapout(ctx, kills=2):
    """kill -9 of the host the moment it creates a snapshot layer file (inotify on its swap
    folders), twice; the harness restarts it after 1 s, as a Deployment would."""
    ctx.evidence["kills"] = []
    for k in range(kills):
        base = ctx.host.own_swap_dirs()
        deadline = time.monotonic() + 20
        dirs = []
        while time.monotonic() < deadline and not dirs:
            dirs = [d for d in glob.glob(os.path.join(base, "*")) if os.path.isdir(d)]
            time.sleep(0.1)
        seen = _watch_tmp_files(dirs, 10) if dirs else None
        at = time.monotonic()
        ctx.host.kill9()
        ctx.evidence["kills"].append({"during_layer_write": seen, "at_s": round(at - ctx.t0, 2)})
        if k + 1 < kills:
            time.sleep(3)
    ctx.evidence["host_starts"] = ctx.host.starts


# ---------------------------------------------------------------------------- the control plane

def apiserver_restart(ctx):
    """kube-apiserver stopped and started again (testenv/controlplane.py restart-apiserver)."""
    started = time.monotonic()
    subprocess.run([sys.executable, ctx.controlplane, "restart-apiserver", "--dir", ctx.plane],
                   check=True, capture_output=True)
    ctx.evidence["apiserver_down_s"] = round(time.monotonic() - started, 2)


def etcd_compaction_twice(ctx):
    """etcd compacted to its newest revision, twice, 3 s apart (watches resuming from an
    older resourceVersion get 410 Gone)."""
    revisions = []
    for k in range(2):
        out = subprocess.run([sys.executable, ctx.controlplane, "compact", "--dir", ctx.plane],
                             check=True, capture_output=True, text=True).stdout.strip()
        revisions.append(int(out))
        if k == 0:
            time.sleep(3)
    ctx.evidence["compacted_to_revisions"] = revisions


# ---------------------------------------------------------------------------- snapshots

def _layers(ctx, operators):
    base = ctx.host.own_swap_dirs()
    # Each instance of an operator has a folder "<name>.<incarnation>" of its own.
    return {op: sorted(glob.glob(os.path.join(base, op + ".*", "*.snap"))) for op in operators}


def _damage(path, how, index):
    size = os.path.getsize(path)
    if how == "delete":
        os.unlink(path)
        return f"deleted ({size} B)"
    if how == "truncate":
        new = max(0, size // 2) if index % 2 else 100  # inside the header, or halfway into the data
        os.truncate(path, new)
        return f"truncated {size} -> {new} B"
    # flip: a header byte (header checksum), or a byte in the page data (background data check)
    offset = 24 if index % 2 == 0 else max(0, size - 4000)
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([(byte[0] if byte else 0) ^ 0xFF]))
    return f"flipped byte {offset} of {size}"


def _wait_swapped(ctx, operators, want, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ops = [ctx.host.operator(o) for o in operators]
        if all(o and o["swap"]["swappedOut"] == want for o in ops):
            return True
        time.sleep(0.1)
    return False


def snapshot_damage_swapped(how):
    def fault(ctx):
        """Workload paused until the ring and the replicator are swapped out; every layer file
        of theirs damaged; workload resumed (the next change restores from the damage)."""
        operators = [f"ring-{i}" for i in range(ctx.workload.n)] + ["replicator"]
        ctx.workload.pause()
        try:
            ctx.evidence["all_swapped_out"] = _wait_swapped(ctx, operators, True)
            time.sleep(0.3)
            damaged = []
            for i, (op, files) in enumerate(sorted(_layers(ctx, operators).items())):
                for path in files:
                    damaged.append(f"{op}/{os.path.basename(path)}: {_damage(path, how, i)}")
            ctx.evidence["damaged"] = damaged
        finally:
            ctx.workload.resume()
    fault.__doc__ = f"snapshot layers {how} while swapped out"
    return fault


def snapshot_damage_resident(how):
    def fault(ctx):
        """The replicator (idle period 4 s here) swapped out, restored by one change, and
        while it is resident, its memory mapping the layers, every layer file damaged."""
        ctx.workload.pause()
        try:
            ctx.evidence["swapped_out_first"] = _wait_swapped(ctx, ["replicator"], True, timeout=20)
            restores = (ctx.host.operator("replicator") or {}).get("swap", {}).get("restores", 0)
            ctx.workload.replicator_change(10_000)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                o = ctx.host.operator("replicator")
                if o and not o["swap"]["swappedOut"] and o["swap"]["restores"] > restores:
                    break
                time.sleep(0.05)
            o = ctx.host.operator("replicator") or {}
            ctx.evidence["resident_when_damaged"] = not o.get("swap", {}).get("swappedOut", True)
            damaged = []
            for path in _layers(ctx, ["replicator"])["replicator"]:
                # flip: a header byte and a data byte (pages the guest has not touched yet read it)
                for index in ((0, 1) if how == "flip" else (1,)):
                    damaged.append(f"replicator/{os.path.basename(path)}: {_damage(path, how, index)}")
            ctx.evidence["damaged"] = damaged
        finally:
            ctx.workload.resume()
    fault.__doc__ = f"snapshot layers {how} while the operator is resident (mapped)"
    return fault


def full_disk(ctx, hold_s=6):
    """The swap folder is a 64 MiB ext4 file system (loop device); a filler file takes all
    its free space for 6 s, then is deleted."""
    filler = os.path.join(ctx.swap_dir, "filler")
    written = 0
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096, 1):  # megabytes, then the last pages, then the last bytes
            block = b"\xa5" * size
            while True:
                try:
                    n = os.write(fd, block)
                except OSError:
                    break
                written += n
                if n < size:
                    break
    finally:
        os.close(fd)
    st = os.statvfs(ctx.swap_dir)
    ctx.evidence["filler_mib"] = round(written / 2**20, 1)
    ctx.evidence["free_bytes_while_full"] = st.f_bavail * st.f_frsize
    time.sleep(hold_s)
    os.unlink(filler)
    ctx.evidence["host_log_staying_resident"] = ctx.host.log_grep("cannot swap out", 2)


# ---------------------------------------------------------------------------- the proxy

def proxy_fault(kind, hold_s=8):
    def fault(ctx):
        ctx.proxy.set_fault(kind)
        time.sleep(hold_s)
        ctx.proxy.set_fault("none")
        ctx.evidence["proxy"] = dict(ctx.proxy.stats)
    fault.__doc__ = f"API server through the chaos proxy: {kind} for {hold_s} s"
    return fault


# ---------------------------------------------------------------------------- hostile guests

def hostile_pokes(ctx):
    """Wakes the hostile guest: a labelled ConfigMap created, then changed, through the whole
    workload window."""
    ns = f"{ctx.workload.p}-hostile"
    ctx.api.create_namespace(ns)
    path = f"/api/v1/namespaces/{ns}/configmaps"
    pokes = 0
    end = ctx.workload_end_estimate
    while time.monotonic() < end:
        name = f"poke-{pokes % 4}"
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": ns, "labels": {"hostile.wasm-operator.dev/target": "yes"}},
                "data": {"n": str(pokes)}}
        try:
            if pokes < 4:
                ctx.api.post(path, body)
            else:
                ctx.api.merge_patch(f"{path}/{name}", {"data": {"n": str(pokes)}})
        except Exception as e:  # noqa: BLE001 - recorded, the run goes on
            ctx.evidence.setdefault("poke_errors", []).append(str(e)[:200])
        pokes += 1
        time.sleep(0.5)
    ctx.evidence["pokes"] = pokes
