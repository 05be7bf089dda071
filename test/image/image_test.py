#!/usr/bin/env python3
"""The container images (scripts/build-image.sh, issue 15): each archive is a valid OCI image
layout whose every blob hashes right; the host's image holds exactly its binary, the shared
libraries ldd lists for it, CA certificates and the users, and no other file; it runs as uid
65532, and from its unpacked layer under chroot as that user the binary starts (so no library
is missing) and runs a Wasm guest; the pause and client images run the same way; a second
build is byte for byte the same; containerd's ctr imports all three as a node would.

  /usr/bin/python3 test/image/image_test.py BUILD MODULE.wasm     (needs root: chroot, tar -x)"""
import filecmp
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(sys.argv[1])
MODULE = sys.argv[2]
BINARY = os.path.join(BUILD, "host", "wasm-operator")
NONROOT = 65532
USER = f"{NONROOT}:{NONROOT}"
IMAGE_ENV = {"HOME": "/home/nonroot", "PATH": "/usr/local/bin"}  # as the configs set it
EPOCH = "1700000000"  # any fixed time: both builds use it

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

failures = 0
passed = 0


def check(name, ok, detail=""):
    global failures, passed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    failures += 0 if ok else 1
    passed += 1 if ok else 0
    return ok


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_images(out):
    started = time.monotonic()
    result = subprocess.run(["bash", os.path.join(ROOT, "scripts", "build-image.sh"), BUILD, out],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    print(result.stderr, end="")
    if result.returncode != 0:
        check("scripts/build-image.sh exits 0", False, result.returncode)
        sys.exit(1)
    return time.monotonic() - started


def read_layout(files, name):
    """Validates an OCI image layout given as {path: bytes}; returns (index, manifest, config,
    uncompressed layer) or None after reporting what is wrong."""
    problems = []
    if json.loads(files.get("oci-layout", b"{}")).get("imageLayoutVersion") != "1.0.0":
        problems.append("oci-layout missing or not version 1.0.0")
    index = json.loads(files.get("index.json", b"{}"))
    manifests = index.get("manifests", [])
    if index.get("schemaVersion") != 2 or len(manifests) != 1:
        problems.append(f"index.json: want schemaVersion 2 and one manifest, got {index}")
        check(f"{name}: layout", False, "; ".join(problems))
        return None
    referenced = set()

    def blob(descriptor, media_type):
        digest = descriptor.get("digest", "")
        data = files.get("blobs/" + digest.replace(":", "/"))
        referenced.add("blobs/" + digest.replace(":", "/"))
        if data is None:
            problems.append(f"blob {digest} missing")
        elif sha256(data) != digest or len(data) != descriptor.get("size"):
            problems.append(f"blob {digest} does not hash to its digest or size")
        if descriptor.get("mediaType") != media_type:
            problems.append(f"{digest}: media type {descriptor.get('mediaType')}, "
                            f"want {media_type}")
        return data or b"{}"

    manifest = json.loads(blob(manifests[0], OCI_MANIFEST))
    config = json.loads(blob(manifest.get("config", {}), OCI_CONFIG))
    layers = manifest.get("layers", [])
    if len(layers) != 1:
        problems.append(f"want one layer, got {len(layers)}")
        check(f"{name}: layout", False, "; ".join(problems))
        return None
    layer = gzip.decompress(blob(layers[0], OCI_LAYER))
    if config.get("rootfs", {}).get("diff_ids") != [sha256(layer)]:
        problems.append("config's diff_ids do not name the uncompressed layer")
    unreferenced = sorted(set(p for p in files if p.startswith("blobs/")) - referenced)
    if unreferenced:
        problems.append(f"unreferenced blobs {unreferenced}")
    check(f"{name}: a valid OCI layout, every blob hashing to its digest", not problems,
          "; ".join(problems))
    return index, manifest, config, layer


def archive_files(path):
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


def layout_files(folder):
    files = {}
    for base, _, names in os.walk(folder):
        for n in names:
            full = os.path.join(base, n)
            with open(full, "rb") as f:
                files[os.path.relpath(full, folder)] = f.read()
    return files


def unpack(layer, into):
    """The layer as a runtime unpacks it (GNU tar keeps owners as root does); returns
    {path: TarInfo} for every entry."""
    os.makedirs(into)
    subprocess.run(["tar", "-x", "--numeric-owner", "--same-permissions", "-C", into],
                   input=layer, check=True)
    with tarfile.open(fileobj=io.BytesIO(layer)) as t:
        return {os.path.normpath(m.name): m for m in t.getmembers()}


def in_chroot(rootfs, user, argv, **kwargs):
    """argv run with rootfs as / as user, with the environment the image's config sets."""
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    return subprocess.run([chroot, f"--userspec={user}", rootfs] + argv, capture_output=True,
                          text=True, timeout=60, env=IMAGE_ENV, **kwargs)


def ancestors(path):
    while path := os.path.dirname(path):
        yield path


def check_contents(name, entries, expected_files, owned_by_user=()):
    files = {p for p, m in entries.items() if not m.isdir()}
    unexpected, missing = sorted(files - set(expected_files)), sorted(set(expected_files) - files)
    check(f"{name}: exactly the expected files", not unexpected and not missing,
          f"unexpected {unexpected}, missing {missing}")
    dirs = {p for p, m in entries.items() if m.isdir()} - {"."}
    allowed = set(owned_by_user) | {a for p in files | set(owned_by_user) for a in ancestors(p)}
    check(f"{name}: no folder beyond the files' own and the home", dirs <= allowed,
          sorted(dirs - allowed))
    owners = {p: (NONROOT, NONROOT) for p in owned_by_user}
    wrong_owner = sorted(p for p, m in entries.items() if (m.uid, m.gid) != owners.get(p, (0, 0)))
    check(f"{name}: owned by root, the home folder by the user", not wrong_owner, wrong_owner)


def ldd_libraries():
    """Where the image should hold each library ldd lists: under its own path, or in
    /usr/local/lib for those the binary finds by its RUNPATH in the build cache."""
    listing = subprocess.run(["ldd", BINARY], capture_output=True, text=True, check=True).stdout
    paths = {}
    for line in listing.splitlines():
        words = line.split()
        path = words[2] if len(words) > 2 and words[1] == "=>" else words[0]
        if not path.startswith("/"):
            continue  # linux-vdso
        system = path.startswith(("/lib/", "/lib64/", "/usr/lib/"))
        paths[path] = path if system else "/usr/local/lib/" + os.path.basename(path)
    return paths


def check_host_image(config, entries, rootfs):
    c = config.get("config", {})
    check("host: runs as 65532:65532", c.get("User") == USER, c.get("User"))
    check("host: entrypoint and command",
          c.get("Entrypoint") == ["/usr/local/bin/wasm-operator"] and c.get("Cmd") == ["run"], c)
    check("host: HOME and working folder are the user's home",
          "HOME=/home/nonroot" in c.get("Env", []) and c.get("WorkingDir") == "/home/nonroot", c)
    check("host: linux/amd64", (config.get("os"), config.get("architecture")) == ("linux", "amd64"))
    libraries = ldd_libraries()
    expected = [p.lstrip("/") for p in libraries.values()] + [
        "usr/local/bin/wasm-operator", "etc/ld.so.conf", "etc/ld.so.cache", "etc/nsswitch.conf",
        "etc/passwd", "etc/group", "etc/ssl/certs/ca-certificates.crt"]
    check_contents("host", entries, expected, owned_by_user={"home/nonroot"})
    differ = []
    for source, dest in libraries.items():
        copy = rootfs + dest
        if not os.path.isfile(copy) or not filecmp.cmp(source, copy, shallow=False):
            differ.append(dest)
    check(f"host: the {len(libraries)} libraries are the build machine's, byte for byte",
          not differ, differ)
    with open(os.path.join(rootfs, "etc/passwd")) as f:
        check("host: /etc/passwd names nonroot as 65532",
              f"nonroot:x:{NONROOT}:{NONROOT}:" in f.read())
    with open("/etc/ssl/certs/ca-certificates.crt", "rb") as a, \
         open(os.path.join(rootfs, "etc/ssl/certs/ca-certificates.crt"), "rb") as b:
        check("host: the CA certificates are the machine's", a.read() == b.read())

    want = subprocess.run([BINARY, "version"], capture_output=True, text=True).stdout
    got = in_chroot(rootfs, USER, ["/usr/local/bin/wasm-operator", "version"])
    check("host: `wasm-operator version` runs in the image as 65532 (no library missing)",
          got.returncode == 0 and got.stdout == want and want.startswith("wasm-operator "),
          f"exit {got.returncode}, stdout {got.stdout!r}, stderr {got.stderr!r}")
    # A guest through Wasmtime inside the image: compiles, runs, writes the user's cache.
    shutil.copy(MODULE, os.path.join(rootfs, "home/nonroot/guest.wasm"))
    os.chown(os.path.join(rootfs, "home/nonroot/guest.wasm"), NONROOT, NONROOT)
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "b"}}
    got = in_chroot(rootfs, USER, ["/usr/local/bin/wasm-operator", "call", "--module",
                                   "/home/nonroot/guest.wasm", "--export", "roundtrip"],
                    input=json.dumps(obj))
    ok = got.returncode == 0
    if ok:
        out = json.loads(got.stdout)
        ok = out.get("metadata", {}).get("annotations", {}).get("wasm-operator.dev/seen-by") == \
            "json-roundtrip"
    check("host: `wasm-operator call` runs a Wasm guest in the image as 65532", ok,
          f"exit {got.returncode}, stdout {got.stdout!r}, stderr {got.stderr!r}")


def check_pause_image(config, entries, rootfs):
    c = config.get("config", {})
    check("pause: runs as 65535, entrypoint /pause",
          c.get("User") == "65535:65535" and c.get("Entrypoint") == ["/pause"], c)
    check_contents("pause", entries, ["pause"])
    got = in_chroot(rootfs, "65535:65535", ["/pause", "-v"])
    check("pause: static, runs alone in its image", got.returncode == 0 and "pause" in got.stdout,
          f"exit {got.returncode}, {got.stderr!r}")


def check_client_image(config, entries, rootfs):
    c = config.get("config", {})
    check("client: runs as 65532, entrypoint kubectl",
          c.get("User") == USER and c.get("Entrypoint") == ["/usr/local/bin/kubectl"], c)
    check_contents("client", entries, ["usr/local/bin/kubectl", "etc/passwd", "etc/group"],
                   owned_by_user={"home/nonroot"})
    got = in_chroot(rootfs, USER, ["/usr/local/bin/kubectl", "version", "--client"])
    check("client: kubectl runs in the image as 65532",
          got.returncode == 0 and "Client Version: v" in got.stdout,
          f"exit {got.returncode}, {got.stdout!r} {got.stderr!r}")


class Containerd:
    """A containerd of the test's own: root, state and sockets in a temporary folder, no CRI
    plugin, so it neither needs nor disturbs a node's containerd."""

    def __init__(self, folder):
        self.folder = folder
        self.socket = os.path.join(folder, "containerd.sock")
        config = os.path.join(folder, "config.toml")
        with open(config, "w") as f:
            f.write(f'version = 2\nroot = "{folder}/root"\nstate = "{folder}/state"\n'
                    'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    f'[grpc]\n  address = "{self.socket}"\n'
                    f'[ttrpc]\n  address = "{self.socket}.ttrpc"\n')
        self.log = open(os.path.join(folder, "containerd.log"), "w")
        self.process = subprocess.Popen(["containerd", "--config", config], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while self.ctr("version").returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"containerd did not start; see {self.log.name}")
            time.sleep(0.1)

    def ctr(self, *args):
        return subprocess.run(["ctr", "--address", self.socket, "--namespace", "k8s.io", *args],
                              capture_output=True, text=True, timeout=60)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def check_import(archives):
    folder = tempfile.mkdtemp(prefix="wop-image-ctr-")  # short: socket paths are limited
    containerd = None
    try:
        containerd = Containerd(folder)
        for ref, archive in archives.items():
            got = containerd.ctr("images", "import", "--snapshotter", "native", archive)
            check(f"ctr -n k8s.io images import {os.path.basename(archive)}",
                  got.returncode == 0 and ref in got.stdout, f"{got.stdout} {got.stderr}")
        listed = containerd.ctr("images", "ls", "-q").stdout.split()
        check("containerd lists the three images by name", sorted(listed) == sorted(archives),
              listed)
    finally:
        if containerd:
            containerd.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main():
    work = tempfile.mkdtemp(prefix="image-test-", dir=BUILD)
    try:
        first, second = os.path.join(work, "first"), os.path.join(work, "second")
        seconds = build_images(first)
        print(f"built the three images in {seconds:.1f} s")
        build_images(second)
        images = {"wasm-operator": ("localhost/wasm-operator:dev", check_host_image),
                  "pause": ("localhost/pause:dev", check_pause_image),
                  "wop-client": ("localhost/wop-client:dev", check_client_image)}
        archives = {}
        for name, (ref, check_image) in images.items():
            archive = os.path.join(first, name + ".oci.tar")
            archives[ref] = archive
            files = archive_files(archive)
            check(f"{name}: the archive holds the layout, file for file",
                  files == layout_files(os.path.join(first, name)))
            with open(archive, "rb") as a, open(os.path.join(second, name + ".oci.tar"), "rb") as b:
                check(f"{name}: a second build is byte for byte the same", a.read() == b.read())
            layout = read_layout(files, name)
            if not layout:
                continue
            index, manifest, config, layer = layout
            annotations = index["manifests"][0].get("annotations", {})
            check(f"{name}: tagged {ref}",
                  annotations.get("org.opencontainers.image.ref.name") == ref, annotations)
            rootfs = os.path.join(work, name + ".rootfs")
            check_image(config, unpack(layer, rootfs), rootfs)
            print(f"     {ref}: {os.path.getsize(archive) / 2**20:.1f} MiB archive, layer "
                  f"{manifest['layers'][0]['size'] / 2**20:.1f} MiB compressed, "
                  f"{len(layer) / 2**20:.1f} MiB uncompressed")
        check_import(archives)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
