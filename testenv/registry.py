"""A real OCI registry and an HTTPS file server on loopback, for tests of module sources
(issue 13): Debian's docker-registry with TLS from a test CA and optional htpasswd basic auth,
modules pushed by the real oras client, not by our own code alone.

  with Registry(users={"alice": "secret"}) as registry:
      digest = push_wasm(registry, "ops/ring", "v1", "ring.wasm")          # "sha256:..."
      # the module is now registry.reference("ops/ring", "v1") == "127.0.0.1:PORT/ops/ring:v1"
  with HttpsFileServer({"ring.wasm": data}, ca=registry.ca) as files:
      files.url("ring.wasm")                                                # https://127.0.0.1:PORT/ring.wasm

Certificates: pass pki_dir= a control plane's pki/ (testenv/controlplane.py: ca.crt, ca.key) to
sign with the CA the host already trusts, or ca= a CertificateAuthority (testenv/ca.py) to
share one between servers; with neither, each server makes its own CA. `ca_file` is the CA
certificate to trust.

Tools: docker-registry and htpasswd come from scripts/setup-apt.sh; oras from
scripts/setup-oras.sh, found through $WOP_ORAS_BIN (CTest sets it) or build/deps.cmake.
Every server runs in a session of its own and gets SIGKILL if the test process dies, so a
crashed test leaves no process behind."""
import base64
import ctypes
import functools
import hashlib
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# CaError and CertificateAuthority are for callers: one import gives a test all it needs.
from ca import CaError, CertificateAuthority, pick_ca  # noqa: E402,F401
from deps import read_deps  # noqa: E402

START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 5
PUSH_TIMEOUT_S = 60

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# Media types of the two Wasm artifact layouts the puller reads.
LAYOUTS = {
    # CNCF TAG-Runtime's Wasm OCI artifact (the layout of today's tools).
    "wasm-oci": ("application/vnd.wasm.config.v0+json", "application/wasm"),
    # Krustlet's wasm-to-oci, still used by Kubewarden policies.
    "legacy": ("application/vnd.wasm.config.v1+json", "application/vnd.wasm.content.layer.v1+wasm"),
}


class RegistryError(Exception):
    pass


def _tool(name, setup_script):
    path = shutil.which(name)
    if not path:
        raise RegistryError(f"{name} is not installed; run {setup_script} (or scripts/setup.sh)")
    return path


def oras_binary(build=None):
    """The oras that scripts/setup-oras.sh built: $WOP_ORAS_BIN, else BUILD/deps.cmake."""
    path = os.environ.get("WOP_ORAS_BIN")
    if not path and build:
        try:
            path = read_deps(build).get("WOP_ORAS_BIN")
        except OSError:  # no deps.cmake: setup has not run for this build folder
            path = None
    if not path or not os.access(path, os.X_OK):
        raise RegistryError(f"oras not found (WOP_ORAS_BIN={path!r}); run scripts/setup-oras.sh "
                            f"(or scripts/setup.sh) and pass its output as WOP_ORAS_BIN")
    return path


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    # Runs in the child before exec: SIGKILL when the thread that started it ends, so when the
    # test process goes, however it goes. Start servers from the main thread.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# ---------------------------------------------------------------------------- registry

class Registry:
    """docker-registry serving https://127.0.0.1:PORT from a temporary folder.

    users: {"name": "password"} turns on htpasswd basic auth (docker-registry answers
    401 with `WWW-Authenticate: Basic realm=...`; it offers no Bearer token flow in this mode).
    Deleting manifests and blobs is enabled, so tests can make a tag go away."""

    def __init__(self, users=None, pki_dir=None, ca=None):
        self.users = dict(users or {})
        self._pki_dir, self._ca = pki_dir, ca
        self.dir = None
        self.process = None
        self.port = None

    # -- lifetime
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        binary = _tool("docker-registry", "scripts/setup-apt.sh")
        self.dir = tempfile.mkdtemp(prefix="wop-registry-")
        try:
            self.ca = pick_ca(self._ca, self._pki_dir, self.dir)
            cert, key = self.ca.issue_server(os.path.join(self.dir, "tls"), "registry")
            auth = self._write_htpasswd() if self.users else None
            last = ""
            for _ in range(3):  # a free port can be taken between probe and bind
                self.port = _free_port()
                config = self._write_config(cert, key, auth)
                log = open(self.log_file, "wb")
                self.process = subprocess.Popen([binary, "serve", config], stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True,
                                                preexec_fn=_die_with_parent)
                log.close()
                last = self._wait_ready()
                if not last:
                    return
                self._end_process()
                if "address already in use" not in last:
                    break
            raise RegistryError(f"docker-registry did not start: {last} (log: {self.log_file})")
        except BaseException:
            self.stop()
            raise

    def stop(self):
        self._end_process()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # -- what tests use
    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    @property
    def ca_file(self):
        return self.ca.cert_file

    def reference(self, repo, tag_or_digest):
        sep = "@" if tag_or_digest.startswith("sha256:") else ":"
        return f"{self.address}/{repo}{sep}{tag_or_digest}"

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_file)

    def get(self, path, accept=None, user=None, password=None, method="GET"):
        """(status, headers, body) of https://ADDRESS{path}; basic auth when user is given.
        Never raises on an HTTP error status: tests look at 401s and 404s."""
        request = urllib.request.Request(f"https://{self.address}{path}", method=method)
        if accept:
            request.add_header("Accept", accept)
        if user is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, context=self.ssl_context(), timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    @property
    def log_file(self):
        return os.path.join(self.dir, "registry.log")

    # -- internals
    def _write_htpasswd(self):
        htpasswd = _tool("htpasswd", "scripts/setup-apt.sh")
        lines = []
        for name, password in self.users.items():
            # -B: bcrypt, the only hash docker-registry accepts.
            out = subprocess.run([htpasswd, "-nbB", name, password], capture_output=True, text=True)
            if out.returncode != 0:
                raise RegistryError(f"htpasswd failed for {name}: {out.stderr.strip()}")
            lines.append(out.stdout.strip())
        path = os.path.join(self.dir, "htpasswd")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def _write_config(self, cert, key, htpasswd):
        # JSON is YAML, which docker-registry reads.
        config = {
            "version": "0.1",
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "storage")},
                        "delete": {"enabled": True}},
            "http": {"addr": self.address, "secret": secrets.token_hex(16),
                     "tls": {"certificate": cert, "key": key}},
        }
        if htpasswd:
            config["auth"] = {"htpasswd": {"realm": "wop-test-registry", "path": htpasswd}}
        path = os.path.join(self.dir, "config.yml")
        with open(path, "w") as f:
            json.dump(config, f, indent=2)
        return path

    def _wait_ready(self):
        """'' once /v2/ answers (200, or 401 with auth on); else why not."""
        deadline = time.time() + START_TIMEOUT_S
        last = "no answer"
        while time.time() < deadline:
            if self.process.poll() is not None:
                return f"exited with {self.process.returncode}: {self._log_tail()}"
            try:
                status, _, _ = self.get("/v2/")
                if status in (200, 401):
                    return ""
                last = f"/v2/ answered {status}"
            except (OSError, ssl.SSLError) as e:
                last = str(e)
            time.sleep(0.1)
        return f"/v2/ not ready after {START_TIMEOUT_S} s ({last}): {self._log_tail()}"

    def _log_tail(self, lines=5):
        try:
            with open(self.log_file, errors="replace") as f:
                return " | ".join(l.strip() for l in f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def _end_process(self):
        if not self.process:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
                break
            except subprocess.TimeoutExpired:
                continue
        self.process.wait()
        self.process = None


# ---------------------------------------------------------------------------- pushing

def push_wasm(registry, repo, tag, wasm_path, layout="wasm-oci", username=None, password=None, oras=None):
    """Pushes wasm_path as repo:tag with the real oras client and returns the manifest's digest.

    layout: "wasm-oci" (config application/vnd.wasm.config.v0+json, one application/wasm layer)
    or "legacy" (config application/vnd.wasm.config.v1+json, one
    application/vnd.wasm.content.layer.v1+wasm layer). Credentials default to the registry's
    first user. The layer is pushed under a neutral file name, so its
    org.opencontainers.image.title says nothing a puller could lean on. The manifest is read
    back and checked (media types, the layer's digest and size) before the digest is returned."""
    if layout not in LAYOUTS:
        raise RegistryError(f"unknown layout {layout!r} (one of {', '.join(LAYOUTS)})")
    config_type, layer_type = LAYOUTS[layout]
    if username is None and registry.users:
        username, password = next(iter(registry.users.items()))
    with open(wasm_path, "rb") as f:
        data = f.read()
    layer_digest = "sha256:" + hashlib.sha256(data).hexdigest()

    with tempfile.TemporaryDirectory(prefix="wop-push-") as work:
        # Relative names: oras refuses absolute paths and records the name as the title.
        layer_name = f"layer-{secrets.token_hex(4)}.bin"
        with open(os.path.join(work, layer_name), "wb") as f:
            f.write(data)
        config = {} if layout == "legacy" else {"architecture": "wasm", "os": "wasip1",
                                               "layerDigests": [layer_digest]}
        with open(os.path.join(work, "config.json"), "w") as f:
            json.dump(config, f)
        # An empty credentials store of its own: never the user's ~/.docker/config.json.
        with open(os.path.join(work, "auth.json"), "w") as f:
            f.write("{}")
        argv = [oras or oras_binary(), "push", "--no-tty", "--ca-file", registry.ca_file,
                "--registry-config", "auth.json", "--config", f"config.json:{config_type}",
                registry.reference(repo, tag), f"{layer_name}:{layer_type}"]
        stdin = None
        if username is not None:
            argv += ["--username", username, "--password-stdin"]
            stdin = password
        result = subprocess.run(argv, cwd=work, input=stdin, capture_output=True, text=True, timeout=PUSH_TIMEOUT_S)
        if result.returncode != 0:
            raise RegistryError(f"oras push of {repo}:{tag} failed: {(result.stderr or result.stdout).strip()}")

    status, headers, body = registry.get(f"/v2/{repo}/manifests/{tag}", accept=OCI_MANIFEST, user=username,
                                         password=password)
    if status != 200:
        raise RegistryError(f"manifest of {repo}:{tag} not readable after push: {status} {body[:200]!r}")
    manifest = json.loads(body)
    layers = manifest.get("layers", [])
    wanted = (manifest.get("mediaType"), manifest.get("config", {}).get("mediaType"),
              [(l.get("mediaType"), l.get("digest"), l.get("size")) for l in layers])
    if wanted != (OCI_MANIFEST, config_type, [(layer_type, layer_digest, len(data))]):
        raise RegistryError(f"pushed manifest of {repo}:{tag} is not the {layout} layout: {manifest}")
    digest = headers.get("Docker-Content-Digest")
    if digest != "sha256:" + hashlib.sha256(body).hexdigest():
        raise RegistryError(f"Docker-Content-Digest {digest!r} is not the manifest's sha256")
    return digest


# ---------------------------------------------------------------------------- file server

class HttpsFileServer:
    """Serves files over HTTPS on 127.0.0.1 with a certificate from a test CA: the `url`
    module source. content is a folder (served in place) or {name: bytes} (written to a
    temporary folder; put() replaces or adds one later). `requests` lists the paths asked for,
    in order, so tests can tell whether a module was fetched again."""

    def __init__(self, content, pki_dir=None, ca=None):
        self._content, self._pki_dir, self._ca = content, pki_dir, ca
        self.dir = None
        self.root = None
        self.requests = []
        self._server = None
        self._thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="wop-files-")
        try:
            self.ca = pick_ca(self._ca, self._pki_dir, self.dir)
            cert, key = self.ca.issue_server(os.path.join(self.dir, "tls"), "files")
            if isinstance(self._content, dict):
                self.root = os.path.join(self.dir, "files")
                os.makedirs(self.root)
                for name, data in self._content.items():
                    self.put(name, data)
            else:
                self.root = os.path.abspath(self._content)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            requests = self.requests

            class Handler(http.server.SimpleHTTPRequestHandler):
                def log_message(self, *args):
                    pass

                def send_head(self):
                    requests.append(self.path)
                    return super().send_head()

            handler = functools.partial(Handler, directory=self.root)
            self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            self._server.daemon_threads = True
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._thread = threading.Thread(target=self._server.serve_forever, name="https-files", daemon=True)
            self._thread.start()
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def put(self, name, data):
        """Adds or replaces a file (atomically: a fetch sees the old bytes or the new)."""
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def ca_file(self):
        return self.ca.cert_file

    def url(self, name):
        return f"https://127.0.0.1:{self.port}/{name}"
