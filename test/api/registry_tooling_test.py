#!/usr/bin/env python3
"""The registry test tooling (testenv/registry.py, issue 13) does what the module-source tests
will lean on: a real docker-registry on loopback with TLS from a test CA and basic auth,
modules pushed by the real oras in both Wasm layouts and read back byte for byte, an
unauthenticated request challenged, an HTTPS file server whose bytes hash right, and no
process left behind, even when the test process is killed.

Runs twice over: with CAs of its own, and with a control plane's pki folder (made here with
testenv/controlplane.py's make_pki, so no control plane needs to run).

  /usr/bin/python3 test/api/registry_tooling_test.py BUILD      (WOP_ORAS_BIN: the oras to push with)"""
import ctypes
import hashlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "testenv"))
sys.path.insert(0, os.path.join(ROOT, "test", "ops"))
import controlplane  # noqa: E402
import harness  # noqa: E402
from registry import (LAYOUTS, OCI_MANIFEST, HttpsFileServer, Registry, RegistryError,  # noqa: E402
                      oras_binary, push_wasm)

USERS = {"alice": "correct horse", "bob": "battery staple"}
REPO = "ops/ring"


def leb128(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def wasm_module(payload_size):
    """A valid, empty Wasm module with a custom section of random bytes: big enough that the
    blob is not trivially small, different on every run so nothing is served from a cache."""
    name = b"wop-test"
    body = leb128(len(name)) + name + os.urandom(payload_size)
    return b"\0asm\x01\0\0\0" + b"\x00" + leb128(len(body)) + body


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def process_gone(pid, timeout_s=5):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


AUTH = {"user": "alice", "password": USERS["alice"]}
CONFIGS = {"wasm-oci": lambda layer: {"architecture": "wasm", "os": "wasip1", "layerDigests": [layer]},
           "legacy": lambda layer: {}}


def check_registry(checks, label, wasm_path, data, **ca):
    with Registry(users=USERS, **ca) as registry:
        if "pki_dir" in ca:
            checks.check(f"{label}: the CA to trust is the control plane's",
                         registry.ca_file == os.path.join(ca["pki_dir"], "ca.crt"), registry.ca_file)
        check_basic_auth(checks, label, registry)
        for layout in LAYOUTS:
            check_push(checks, f"{label}, {layout}", registry, layout, wasm_path, data)
        check_refusals(checks, label, registry)
        check_explicit_credentials(checks, label, registry, wasm_path)
        pid, folder = registry.process.pid, registry.dir
    checks.check(f"{label}: stop leaves no registry process and no folder",
                 process_gone(pid) and not os.path.exists(folder), f"pid {pid}, {folder}")


def check_basic_auth(checks, label, registry):
    status, headers, _ = registry.get("/v2/")
    challenge = headers.get("WWW-Authenticate") or ""
    checks.check(f"{label}: /v2/ without credentials is 401 with a Basic challenge",
                 status == 401 and challenge.startswith("Basic ") and 'realm="' in challenge,
                 f"{status} {challenge!r}")
    status, _, _ = registry.get("/v2/", user="alice", password="wrong")
    checks.check(f"{label}: a wrong password is 401", status == 401, status)
    status, _, _ = registry.get("/v2/", **AUTH)
    checks.check(f"{label}: the right password is 200", status == 200, status)


def check_push(checks, what, registry, layout, wasm_path, data):
    """Pushes data as REPO:<layout> and reads every piece back as a puller would."""
    config_type, layer_type = LAYOUTS[layout]
    try:
        digest = push_wasm(registry, REPO, layout, wasm_path, layout=layout)
    except RegistryError as e:
        checks.check(f"{what}: oras pushes the module", False, e)
        return
    status, headers, body = registry.get(f"/v2/{REPO}/manifests/{layout}", accept=OCI_MANIFEST, **AUTH)
    checks.check(f"{what}: the manifest is served as an OCI image manifest",
                 status == 200 and headers.get("Content-Type") == OCI_MANIFEST, f"{status} {body[:200]!r}")
    checks.check(f"{what}: push_wasm returns the manifest's digest",
                 digest == headers.get("Docker-Content-Digest") == sha256(body), digest)
    manifest = json.loads(body)
    config, layers = manifest["config"], manifest["layers"]
    checks.check(f"{what}: config media type {config_type}", config["mediaType"] == config_type, config)
    found = [(l["mediaType"], l["digest"], l["size"]) for l in layers]
    checks.check(f"{what}: one layer, {layer_type}, the module's digest and size",
                 found == [(layer_type, sha256(data), len(data))], layers)
    title = layers[0].get("annotations", {}).get("org.opencontainers.image.title", "")
    checks.check(f"{what}: the layer's title is no hint (not the module's file name)",
                 os.path.basename(wasm_path) not in title and not title.endswith(".wasm"), title)

    status, _, by_digest = registry.get(f"/v2/{REPO}/manifests/{digest}", accept=OCI_MANIFEST, **AUTH)
    checks.check(f"{what}: the manifest is also served by digest", status == 200 and by_digest == body, status)
    status, _, blob = registry.get(f"/v2/{REPO}/blobs/{layers[0]['digest']}", **AUTH)
    checks.check(f"{what}: the layer blob is the module, byte for byte",
                 status == 200 and sha256(blob) == sha256(data) and blob == data, f"{status}, {len(blob)} bytes")
    status, _, config_blob = registry.get(f"/v2/{REPO}/blobs/{config['digest']}", **AUTH)
    try:
        config_json = json.loads(config_blob)
    except ValueError:
        config_json = None
    checks.check(f"{what}: the config blob is the layout's JSON",
                 status == 200 and config_json == CONFIGS[layout](sha256(data)), config_blob[:200])


def check_refusals(checks, label, registry):
    status, headers, _ = registry.get(f"/v2/{REPO}/manifests/wasm-oci", accept=OCI_MANIFEST)
    checks.check(f"{label}: an unauthenticated manifest GET is 401 with WWW-Authenticate",
                 status == 401 and (headers.get("WWW-Authenticate") or "").startswith("Basic "), status)
    status, headers, _ = registry.get(f"/v2/{REPO}/blobs/sha256:{'0' * 64}")
    checks.check(f"{label}: an unauthenticated blob GET is 401 too", status == 401, status)
    # docker-registry 2.8 answers 404 (not a Docker v2 manifest) when Accept lacks the OCI
    # type, even to */*: a puller must ask for it. Pinned, so a registry that changes it shows.
    status, _, body = registry.get(f"/v2/{REPO}/manifests/wasm-oci", accept="*/*", **AUTH)
    checks.check(f"{label}: without the OCI type in Accept the manifest is 404 MANIFEST_UNKNOWN",
                 status == 404 and b"MANIFEST_UNKNOWN" in body, f"{status} {body[:200]!r}")
    status, _, _ = registry.get(f"/v2/{REPO}/manifests/no-such-tag", accept=OCI_MANIFEST, **AUTH)
    checks.check(f"{label}: an unknown tag is 404", status == 404, status)


def check_explicit_credentials(checks, label, registry, wasm_path):
    try:  # the second user's, not the default first one
        digest = push_wasm(registry, "ops/other", "v1", wasm_path, username="bob", password=USERS["bob"])
        checks.check(f"{label}: push with explicit credentials", digest.startswith("sha256:"), digest)
    except RegistryError as e:
        checks.check(f"{label}: push with explicit credentials", False, e)
    try:
        push_wasm(registry, "ops/other", "v2", wasm_path, username="bob", password="wrong")
        checks.check(f"{label}: push with a wrong password fails", False, "it succeeded")
    except RegistryError as e:
        refused = "401" in str(e) or "unauthorized" in str(e).lower()
        checks.check(f"{label}: push with a wrong password fails", refused, e)


def check_open_registry(checks, wasm_path):
    with Registry() as registry:
        status, _, _ = registry.get("/v2/")
        checks.check("without users /v2/ is open (200)", status == 200, status)
        try:
            digest = push_wasm(registry, "open/ring", "v1", wasm_path)
            status, _, _ = registry.get(f"/v2/open/ring/manifests/{digest}", accept=OCI_MANIFEST)
            checks.check("without users a push needs no credentials and reads back", status == 200, status)
        except RegistryError as e:
            checks.check("without users a push needs no credentials and reads back", False, e)


def fetch(url, cafile):
    context = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    try:
        with urllib.request.urlopen(url, context=context, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def check_file_server(checks, label, data, folder, **ca):
    with HttpsFileServer({"ring.wasm": data, "nested/other.wasm": b"\0asm\x01\0\0\0"}, **ca) as files:
        status, body = fetch(files.url("ring.wasm"), files.ca_file)
        checks.check(f"{label}: HttpsFileServer serves bytes that hash right",
                     status == 200 and sha256(body) == sha256(data), f"{status}, {len(body)} bytes")
        status, body = fetch(files.url("nested/other.wasm"), files.ca_file)
        checks.check(f"{label}: ... in folders too", status == 200 and body == b"\0asm\x01\0\0\0", status)
        files.put("ring.wasm", data[::-1])
        status, body = fetch(files.url("ring.wasm"), files.ca_file)
        checks.check(f"{label}: put() replaces the served bytes", status == 200 and body == data[::-1], status)
        status, _ = fetch(files.url("missing.wasm"), files.ca_file)
        checks.check(f"{label}: a missing file is 404", status == 404, status)
        checks.check(f"{label}: requests lists what was asked for",
                     files.requests == ["/ring.wasm", "/nested/other.wasm", "/ring.wasm", "/missing.wasm"],
                     files.requests)
        try:
            fetch(files.url("ring.wasm"), None)
            checks.check(f"{label}: a client without the test CA refuses the certificate", False, "it was accepted")
        except (ssl.SSLError, urllib.error.URLError) as e:
            checks.check(f"{label}: a client without the test CA refuses the certificate",
                         "CERTIFICATE_VERIFY_FAILED" in str(e), e)
    with HttpsFileServer(folder, **ca) as files:
        status, body = fetch(files.url("ring.wasm"), files.ca_file)
        checks.check(f"{label}: HttpsFileServer serves a folder in place", status == 200 and body == data, status)


def check_killed_owner_leaves_nothing(checks):
    """SIGKILL the process that started a registry: the registry goes with it."""
    # Orphans come to us rather than to PID 1, so the dead registry is reaped here, not left
    # a zombie for whatever init this machine has.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
    script = ("import sys, time; sys.path.insert(0, sys.argv[1]); from registry import Registry; "
              "r = Registry(); r.start(); print(r.process.pid, r.dir, flush=True); time.sleep(60)")
    owner = subprocess.Popen([sys.executable, "-c", script, os.path.join(ROOT, "testenv")], stdout=subprocess.PIPE,
                             text=True)
    line = owner.stdout.readline().split()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    ok = len(line) == 2 and process_gone(int(line[0]))
    if ok:
        try:
            os.waitpid(int(line[0]), 0)
        except ChildProcessError:
            pass
    checks.check("a registry dies with the process that started it (SIGKILL)", ok, line)
    if len(line) == 2:
        shutil.rmtree(line[1], ignore_errors=True)  # its owner could not clean up


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    checks = harness.Checks()
    try:
        os.environ["WOP_ORAS_BIN"] = oras_binary(build)
    except (RegistryError, OSError) as e:
        checks.check("oras is built", False, e)
        checks.finish()
    for tool in ("docker-registry", "htpasswd", "openssl"):
        if not checks.check(f"{tool} is installed", shutil.which(tool) is not None,
                            "run scripts/setup-apt.sh (or scripts/setup.sh)"):
            checks.finish()

    work = tempfile.mkdtemp(prefix="wop-registry-test-")
    try:
        data = wasm_module(256 * 1024)
        wasm_path = os.path.join(work, "ring.wasm")
        with open(wasm_path, "wb") as f:
            f.write(data)
        pki = os.path.join(work, "pki")
        controlplane.make_pki(pki)
        pki_files = sorted(os.listdir(pki))

        check_registry(checks, "own CA", wasm_path, data)
        check_registry(checks, "control plane CA", wasm_path, data, pki_dir=pki)
        checks.check("the control plane's pki folder is not written into", sorted(os.listdir(pki)) == pki_files,
                     sorted(set(os.listdir(pki)) - set(pki_files)))
        check_open_registry(checks, wasm_path)
        check_file_server(checks, "own CA", data, work)
        check_file_server(checks, "control plane CA", data, work, pki_dir=pki)
        check_killed_owner_leaves_nothing(checks)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
