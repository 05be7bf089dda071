#!/usr/bin/env python3
"""deploy/ as a Kustomize base (issue 15, part 3), with the kubectl we build and a real API
server: `kubectl kustomize deploy/default` renders the host's objects and nothing else (no
ring CRD, no example operators' RBAC); every object passes a server-side dry run; a real
`kubectl apply -k deploy/default` succeeds with no warning (the namespace warns on what the
restricted Pod Security Standard refuses) and a second one changes nothing. Checked on what
the API server stored: the Deployment's security settings, probes, arguments, the snapshot
volume (an emptyDir with a size limit, not memory-backed) and resources; the metrics Service
selects its Pods; the RBAC objects are those of deploy/rbac/host.yaml. The ReplicaSet's Pods
are admitted by the namespace's restricted enforcement; they never run (the test control
plane has no node, issue 15 part 1). Last, everything applied is deleted, the CRD last.

  /usr/bin/python3 test/api/deploy_kustomize_test.py BUILD KUBE_BIN"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
import harness  # noqa: E402

DEFAULT = os.path.join(ROOT, "deploy", "default")
HOST_RBAC = os.path.join(ROOT, "deploy", "rbac", "host.yaml")
NS = "wasm-operator-system"
CRD = ("CustomResourceDefinition", "", "wasmoperators.wasm-operator.dev")
DEPLOYMENT = ("Deployment", NS, "wasm-operator")
SERVICE = ("Service", NS, "wasm-operator-metrics")
RBAC_KINDS = {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
POD_LABELS = {"app.kubernetes.io/name": "wasm-operator"}
CACHE_MOUNT = "/var/cache/wasm-operator"
# What deploy/default is: the host's objects, not the ring's CRD or the example operators' RBAC.
EXPECTED = {
    ("Namespace", "", NS), CRD, ("ServiceAccount", NS, "wasm-operator"),
    ("ClusterRole", "", "wasm-operator-host"), ("ClusterRole", "", "wasm-operator-host-operators"),
    ("ClusterRole", "", "wasm-operator-impersonate"),
    ("ClusterRoleBinding", "", "wasm-operator-host"), ("ClusterRoleBinding", "", "wasm-operator-host-operators"),
    ("Role", NS, "wasm-operator-host"), ("RoleBinding", NS, "wasm-operator-host"),
    ("Role", "default", "wasm-operator-host-events"), ("RoleBinding", "default", "wasm-operator-host-events"),
    DEPLOYMENT, SERVICE, ("PodDisruptionBudget", NS, "wasm-operator"),
}


def key(obj):
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


class Kubectl:
    def __init__(self, kube_bin, kubeconfig):
        self.argv = [os.path.join(kube_bin, "kubectl"), "--kubeconfig", kubeconfig]

    def __call__(self, *args, stdin=None):
        return subprocess.run(self.argv + list(args), capture_output=True, text=True, input=stdin)

    def objects(self, *args, stdin=None):
        """The objects of a `kubectl ... -o json` answer, by key: a List (get), or one JSON
        document per object (create --dry-run=client)."""
        done = self(*args, "-o", "json", stdin=stdin)
        if done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        decoder, text, at, found = json.JSONDecoder(), done.stdout, 0, {}
        while text[at:].strip():
            at += len(text[at:]) - len(text[at:].lstrip())
            document, at = decoder.raw_decode(text, at)
            for o in document.get("items", [document] if "metadata" in document else []):
                found[key(o)] = o
        return found


def as_applied(obj):
    """The object without what controllers write beside kubectl (status, other managers'
    field entries, resourceVersion): equal before and after an apply that wrote nothing,
    since a write by kubectl renews its own managedFields entry."""
    meta = dict(obj.get("metadata", {}))
    meta.pop("resourceVersion", None)
    meta["managedFields"] = [f for f in meta.get("managedFields", []) if f.get("manager") == "kubectl-client-side-apply"]
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def security_problems(deployment):
    """What the Deployment's Pod template lacks of the settings issue 15 asks for."""
    spec = deployment["spec"]["template"]["spec"]
    pod = spec.get("securityContext", {})
    (container,) = spec["containers"]
    sc = container.get("securityContext", {})
    problems = []
    if pod.get("runAsNonRoot") is not True:
        problems.append("runAsNonRoot")
    if pod.get("runAsUser") != 65532:
        problems.append(f"runAsUser {pod.get('runAsUser')}")
    if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append(f"seccompProfile {pod.get('seccompProfile')}")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation")
    if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
        problems.append(f"capabilities {sc.get('capabilities')}")
    if sc.get("privileged") or sc.get("runAsUser") not in (None, 65532):
        problems.append(f"container securityContext {sc}")
    return problems


def probe_problems(container):
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    problems = []
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet", {})
        port = ports.get(get.get("port"), get.get("port"))
        if get.get("path") != path or port != 8081:
            problems.append(f"{probe} {container.get(probe)}")
    if ports.get("metrics") != 8080:
        problems.append(f"ports {container.get('ports')}")
    return problems


def volume_problems(spec):
    """Exactly one writable place: an emptyDir on disk with a size limit, holding the
    artifacts and the snapshots."""
    (container,) = spec["containers"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = container.get("volumeMounts", [])
    problems = []
    if len(volumes) != 1 or len(mounts) != 1:
        return [f"volumes {list(volumes)}, mounts {mounts}"]
    (mount,) = mounts
    volume = volumes.get(mount["name"], {})
    empty_dir = volume.get("emptyDir")
    if empty_dir is None or not empty_dir.get("sizeLimit") or empty_dir.get("medium", "") != "":
        problems.append(f"volume {volume}")
    if mount.get("mountPath") != CACHE_MOUNT or mount.get("readOnly"):
        problems.append(f"mount {mount}")
    args = container.get("args", [])
    for flag in ("--artifact-dir", "--swap-dir"):
        values = [a.split("=", 1)[1] for a in args if a.startswith(flag + "=")]
        if len(values) != 1 or not values[0].startswith(CACHE_MOUNT + "/"):
            problems.append(f"{flag} not under {CACHE_MOUNT}: {args}")
    return problems


def host_problems(deployment):
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    problems = []
    args = container.get("args", [])
    for arg in ("--leader-elect", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081"):
        if arg not in args:
            problems.append(f"{arg} missing from {args}")
    if args[:1] != ["run"] or any(a.startswith("--operators") for a in args):
        problems.append(f"not `run` of the cluster's WasmOperators: {args}")
    if spec.get("serviceAccountName") != "wasm-operator":
        problems.append(f"serviceAccountName {spec.get('serviceAccountName')}")
    if container.get("image") != "localhost/wasm-operator:dev" or container.get("imagePullPolicy") != "Never":
        problems.append(f"image {container.get('image')} {container.get('imagePullPolicy')}")
    downward = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in container.get("env", [])}
    if downward != {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace", "POD_UID": "metadata.uid"}:
        problems.append(f"env {downward}")
    resources = container.get("resources", {})
    for part in ("requests", "limits"):
        if set(resources.get(part, {})) < {"cpu", "memory"}:
            problems.append(f"resources.{part} {resources.get(part)}")
    if deployment["spec"].get("replicas") != 2:
        problems.append(f"replicas {deployment['spec'].get('replicas')}")
    return problems


def rbac_differences(expected, live):
    """RBAC objects of host.yaml the server does not hold as written. An aggregated
    ClusterRole's rules are the API server's to fill, so only its selector is compared."""
    differences = []
    for k, want in expected.items():
        have = live.get(k)
        if have is None:
            differences.append(f"{k} missing")
            continue
        fields = ["aggregationRule"] if "aggregationRule" in want else ["rules", "roleRef", "subjects"]
        for field in fields:
            if want.get(field) != have.get(field):
                differences.append(f"{k} {field}: {have.get(field)} instead of {want.get(field)}")
    return differences


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def main():
    build, kube_bin = sys.argv[1], sys.argv[2]
    plane = os.environ.get("WOP_TESTENV_DIR") or os.path.join(build, "controlplane")
    kubectl = Kubectl(kube_bin, os.path.join(plane, "kubeconfig"))
    checks = harness.Checks()

    rendered = kubectl("kustomize", DEFAULT)
    if not checks.check("kubectl kustomize deploy/default renders", rendered.returncode == 0, rendered.stderr):
        checks.finish()
    manifest = rendered.stdout
    objects = kubectl.objects("create", "--dry-run=client", "-f", "-", stdin=manifest)
    checks.check("it holds the host's objects and nothing else (no ring CRD, no example operators' RBAC)",
                 set(objects) == EXPECTED,
                 f"extra {sorted(set(objects) - EXPECTED)}, missing {sorted(EXPECTED - set(objects))}")

    try:
        # A server-side dry run creates nothing, so namespaced objects need their Namespace
        # first: applied alone, then everything is dry-run against the real admission chain.
        namespace = kubectl("apply", "-f", "-", stdin=json.dumps(objects[("Namespace", "", NS)]))
        checks.check("the Namespace applies on its own", namespace.returncode == 0, namespace.stderr)
        dry = kubectl("apply", "-k", DEFAULT, "--dry-run=server")
        dry_lines = dry.stdout.splitlines()
        checks.check("every object passes kubectl apply -k deploy/default --dry-run=server",
                     dry.returncode == 0 and len(dry_lines) == len(objects) and
                     all(line.endswith("(server dry run)") for line in dry_lines),
                     dry.stderr or dry.stdout)

        first = kubectl("apply", "-k", DEFAULT)
        checks.check("kubectl apply -k deploy/default succeeds", first.returncode == 0, first.stderr)
        checks.check("with no warning (the restricted Pod Security Standard among them)",
                     "warning" not in first.stderr.lower(), first.stderr)
        established = kubectl("wait", "--for=condition=Established", "--timeout=30s", f"crd/{CRD[2]}")
        checks.check("the WasmOperator CRD is established", established.returncode == 0, established.stderr)
        before = kubectl.objects("get", "-f", "-", stdin=manifest)
        second = kubectl("apply", "-k", DEFAULT)
        lines = second.stdout.splitlines()
        # kubectl says `configured` whenever its patch is not empty, and a PDB's selector is
        # always in it (patchStrategy replace): a patch the server applies as a no-op. Every
        # other object must say `unchanged`, and none may have been written.
        checks.check("a second apply changes nothing: every object unchanged (the PDB: an empty patch)",
                     second.returncode == 0 and len(lines) == len(objects) and
                     all(line.endswith(" unchanged") or line == "poddisruptionbudget.policy/wasm-operator configured"
                         for line in lines), second.stderr or second.stdout)
        live = kubectl.objects("get", "-f", "-", stdin=manifest)
        rewritten = sorted(k for k, o in live.items() if as_applied(o) != as_applied(before.get(k, {})))
        checks.check("and kubectl wrote nothing (each object as before, its apply's field entry untouched)",
                     not rewritten, rewritten)
        # What GitOps tools (Flux, Argo CD with ServerSideApply) do over a kubectl install.
        server_side = kubectl("apply", "--server-side", "-k", DEFAULT)
        checks.check("a server-side apply over it takes every field over without a conflict",
                     server_side.returncode == 0 and
                     all(line.endswith(" serverside-applied") for line in server_side.stdout.splitlines()),
                     server_side.stderr or server_side.stdout)

        checks.check("the API server holds every object", set(live) == EXPECTED, sorted(EXPECTED - set(live)))
        deployment = live.get(DEPLOYMENT)
        if deployment is None:
            checks.finish()
        spec = deployment["spec"]["template"]["spec"]
        checks.check("Deployment: runAsNonRoot as 65532, read-only root, no privilege escalation, "
                     "every capability dropped, seccomp RuntimeDefault",
                     not security_problems(deployment), security_problems(deployment))
        checks.check("Deployment: liveness /healthz and readiness /readyz on 8081, metrics on 8080",
                     not probe_problems(spec["containers"][0]), probe_problems(spec["containers"][0]))
        checks.check("Deployment: one writable volume, an emptyDir on disk with a size limit, holding "
                     "--artifact-dir and --swap-dir", not volume_problems(spec), volume_problems(spec))
        checks.check("Deployment: `run --leader-elect` as wasm-operator, 2 replicas, the local image "
                     "never pulled, the downward API, requests and limits", not host_problems(deployment),
                     host_problems(deployment))
        service = live.get(SERVICE, {}).get("spec", {})
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        checks.check("the metrics Service selects the Pods on port 8080 named metrics",
                     service.get("selector") == POD_LABELS and POD_LABELS.items() <= pod_labels.items() and
                     [(p.get("name"), p.get("port"), p.get("targetPort")) for p in service.get("ports", [])] ==
                     [("metrics", 8080, "metrics")], service)

        host_rbac = {k: o for k, o in kubectl.objects("create", "--dry-run=client", "-f", HOST_RBAC).items()
                     if k[0] in RBAC_KINDS}
        rendered_rbac = {k for k in objects if k[0] in RBAC_KINDS}
        checks.check("the RBAC objects are deploy/rbac/host.yaml's, as written",
                     rendered_rbac == set(host_rbac) and not rbac_differences(host_rbac, live),
                     (sorted(rendered_rbac ^ set(host_rbac)), rbac_differences(host_rbac, live)))

        # The Pods never run here (no node), but the ReplicaSet's creation goes through the
        # namespace's restricted enforcement: a refused template would leave none.
        def pods():
            found = kubectl.objects("get", "pods", "-n", NS, "-l", "app.kubernetes.io/name=wasm-operator")
            return found if len(found) == 2 else None
        created = wait_for(pods, 30)
        checks.check("the ReplicaSet's 2 Pods are admitted under the restricted Pod Security Standard",
                     created is not None,
                     kubectl("get", "replicasets", "-n", NS, "-o", "jsonpath={.items[*].status.conditions}").stdout)
    finally:
        # Everything but the CRD, waiting until the namespace is gone (a later test may
        # create it again), then the CRD.
        rest = {"apiVersion": "v1", "kind": "List", "items": [o for k, o in objects.items() if k != CRD]}
        started = time.monotonic()
        deleted = kubectl("delete", "-f", "-", "--ignore-not-found", "--wait=true", "--timeout=90s",
                          stdin=json.dumps(rest))
        crd = kubectl("delete", f"crd/{CRD[2]}", "--ignore-not-found", "--wait=true", "--timeout=60s")
        left = kubectl.objects("get", "-f", "-", "--ignore-not-found", stdin=manifest)
        checks.check(f"everything applied is deleted, the CRD last ({time.monotonic() - started:.1f} s)",
                     deleted.returncode == 0 and crd.returncode == 0 and not left,
                     (deleted.stderr, crd.stderr, sorted(left)))
    checks.finish()


if __name__ == "__main__":
    main()
