"""What the WasmOperator API tests share: the CRD's file and collection, a host that runs the
cluster's WasmOperators, and reads of an object's status that return {} when it is absent."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
import harness  # noqa: E402
from kube import ApiError  # noqa: E402

CRD = os.path.join(ROOT, "deploy", "crds", "wasmoperators.yaml")
COLLECTION = "/apis/wasm-operator.dev/v1alpha1/wasmoperators"


class ClusterHost(harness.FlaggedHost):
    """A supervised host that runs the cluster's WasmOperators (no --operators)."""

    def argv(self):
        argv = super().argv()
        i = argv.index("--operators")
        return argv[:i] + argv[i + 2:]


def path(name):
    return f"{COLLECTION}/{name}"


def get(api, name):
    try:
        return api.get(path(name))
    except ApiError:
        return None


def condition(obj, kind):
    for c in ((obj or {}).get("status") or {}).get("conditions", []):
        if c.get("type") == kind:
            return c
    return {}


def status_of(api, name):
    return (get(api, name) or {}).get("status") or {}
