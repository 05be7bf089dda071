"""The chaos suite's checker: compares the cluster's final state with every update the
workload made (and the API server acknowledged).

  lost        an acknowledged update the final state does not reflect: for the ring, per
              namespace, final nonce - nonce held (a namespace missing the object counts every
              nonce); for the replicator, per source and target, final gen - gen of the copy
              (a missing copy counts gen + 1: even its creation was lost)
  duplicates  an older update applied again over a newer one, seen by the harness's watches:
              a nonce or a copy's gen that came back after a different value (the ring never
              lowers a nonce, the replicator copies the current source)

Read from the API server with GETs (authoritative), not from the watches."""
import time

from kube import TESTRESOURCES, ApiError


def _get(api, path):
    try:
        return api.get(path)
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def check(api, workload):
    final_nonce, gens = workload.expected()
    lost_ring, lost_repl, details = 0, 0, []
    for ns in workload.ring_ns:
        obj = _get(api, f"{TESTRESOURCES}/namespaces/{ns}/testresources/ring")
        held = obj["spec"]["nonce"] if obj else 0
        if held < final_nonce:
            lost_ring += final_nonce - held
            details.append(f"{ns}/ring holds nonce {held}, not {final_nonce}")
    for s, g in gens.items():
        for t in workload.targets:
            obj = _get(api, f"/api/v1/namespaces/{t}/configmaps/{s}")
            held = int(obj.get("data", {}).get("gen", "-1")) if obj else -1
            if held < g:
                lost_repl += g - held
                details.append(f"{t}/{s} holds gen {held}, not {g}" if obj else f"{t}/{s} missing (source gen {g})")
    keys_ring = [(ns, "ring") for ns in workload.ring_ns]
    keys_copies = [(t, s) for s in gens for t in workload.targets]
    return {"lost": lost_ring + lost_repl, "lost_ring": lost_ring, "lost_replicator": lost_repl,
            "duplicates": workload.ring.duplicates(keys_ring) + workload.copies.duplicates(keys_copies),
            "final_nonce": final_nonce, "replicator_changes": sum(gens.values()),
            "details": details[:6]}


def converged_by_watch(workload, expected=None):
    """The monotonic time at which the watches saw every update of `expected` (a
    Workload.expected() snapshot; default: now) reflected, or None if they have not yet
    (cheap; the GET check confirms the final state)."""
    final_nonce, gens = expected or workload.expected()
    times = []
    for ns in workload.ring_ns:
        t = workload.ring.first_time((ns, "ring"), lambda v: v >= final_nonce)
        if t is None:
            return None
        times.append(t)
    for s, g in gens.items():
        for tns in workload.targets:
            seq = workload.copies.values((tns, s))
            if not seq or seq[-1][0] < g:
                return None
            t = workload.copies.first_time((tns, s), lambda v, g=g: v >= g)
            times.append(t)
    return max(times) if times else time.monotonic()


def await_convergence(api, workload, since, timeout):
    """Polls until the final state holds; returns (seconds from `since`, or None on timeout)
    and the last check."""
    deadline = time.monotonic() + timeout
    result = None
    while True:
        at = converged_by_watch(workload)
        if at is not None or time.monotonic() > deadline:
            result = check(api, workload)
            if result["lost"] == 0:
                at = at if at is not None else time.monotonic()
                return max(0.0, at - since), result
            if time.monotonic() > deadline:
                return None, result
        time.sleep(0.25)
