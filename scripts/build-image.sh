#!/usr/bin/env bash
# Builds the container images from the build output with umoci, on no base image:
#   localhost/wasm-operator:dev  the host: its binary, exactly the shared libraries it loads,
#                                CA certificates, a non-root user (65532, "nonroot")
#   localhost/pause:dev          the test node's pod sandbox (testenv/images/pause.c, static)
#   localhost/wop-client:dev     the pinned static kubectl, for end-to-end checks from a Pod
# Each lands in OUT/<name>/ (an OCI image layout) and OUT/<name>.oci.tar (the same as one
# archive, for `ctr -n k8s.io images import`), and its sizes are printed.
# Reproducible: every mtime and timestamp is SOURCE_DATE_EPOCH (default: the last commit's).
#   scripts/build-image.sh BUILD_DIR [OUT_DIR]     (OUT_DIR defaults to BUILD_DIR/image)
# Needs root: the layers hold files of other owners, and umoci unpacks as root.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

say() { printf '[image] %s\n' "$*" >&2; }
die() { printf '[image] error: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: scripts/build-image.sh BUILD_DIR [OUT_DIR]"
[ "$(id -u)" -eq 0 ] || die "needs root (files owned by uid 65532 in the layers; umoci unpack)"
command -v umoci >/dev/null || die "umoci is not installed (scripts/setup-apt.sh installs it)"
build_dir="$(cd "$1" && pwd)"
out="${2:-$build_dir/image}"
binary="$build_dir/host/wasm-operator"
[ -x "$binary" ] || die "$binary not found: run \`make build\` first"
kube_bin=$(sed -n 's/^set(WOP_KUBE_BIN "\(.*\)" CACHE.*/\1/p' "$build_dir/deps.cmake" 2>/dev/null ||
  true)
kubectl="$kube_bin/kubectl"
[ -x "$kubectl" ] || die "kubectl not found under WOP_KUBE_BIN ('$kube_bin'): run scripts/setup.sh"

epoch="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
nonroot=65532 # distroless's "nonroot"; the pause image keeps upstream's 65535

mkdir -p "$out"
work="$(mktemp -d "$out/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The paths of the shared libraries (and the loader) that ldd says BINARY loads.
libraries() {
  local listing
  listing=$(ldd "$1") || die "ldd $1 failed"
  if grep -q 'not found' <<<"$listing"; then die "$1: libraries not found: $listing"; fi
  awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$listing"
}

# /etc/passwd, /etc/group and a home folder for the non-root user.
add_users() {
  local rootfs="$1"
  install -d -m 0755 "$rootfs/etc"
  {
    echo "root:x:0:0:root:/root:/sbin/nologin"
    echo "nonroot:x:$nonroot:$nonroot:nonroot:/home/nonroot:/sbin/nologin"
  } >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%s:\n' "$nonroot" >"$rootfs/etc/group"
  install -d -m 0755 "$rootfs/home"
  install -d -m 0700 -o "$nonroot" -g "$nonroot" "$rootfs/home/nonroot"
}

# The host: the binary without its DWARF (2.7 MB instead of 42; the symbol table stays, so
# backtraces still name functions), each library under the path ldd reports, except those
# found by the binary's RUNPATH into the build cache (libwasmtime.so): those go to
# /usr/local/lib, which /etc/ld.so.cache names for the loader.
fill_host() {
  local rootfs="$1" libs path dest
  libs=$(libraries "$binary")
  install -d -m 0755 "$rootfs/etc" "$rootfs/usr/local/bin" "$rootfs/usr/local/lib"
  objcopy --strip-debug "$binary" "$rootfs/usr/local/bin/wasm-operator"
  while read -r path; do
    case "$path" in
      /lib/* | /lib64/* | /usr/lib/*) dest="$path" ;;
      *) dest="/usr/local/lib/$(basename "$path")" ;;
    esac
    install -D -m "$(stat -L -c %a "$path")" "$path" "$rootfs$dest"
  done <<<"$libs"
  echo /usr/local/lib >"$rootfs/etc/ld.so.conf"
  ldconfig -X -r "$rootfs" || die "ldconfig -r $rootfs failed"
  # libcurl's built-in bundle; the module fetcher reads the same file (--module-ca-file adds to it)
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  # Without it glibc asks DNS before /etc/hosts (the kubelet writes /etc/hosts and resolv.conf).
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  add_users "$rootfs"
}

fill_pause() {
  gcc -static -O2 -s -Wall -Wextra -Werror -o "$1/pause" "$root/testenv/images/pause.c"
}

fill_client() {
  install -D -m 0755 "$kubectl" "$1/usr/local/bin/kubectl"
  add_users "$1"
}

# pack NAME REF FILL [umoci config flags...]: a one-layer image from what FILL puts into an
# empty root folder; OUT/NAME/ and OUT/NAME.oci.tar; prints its sizes.
pack() {
  local name="$1" ref="$2" fill="$3"
  shift 3
  local layout="$work/$name" bundle="$work/$name.bundle"
  umoci init --layout "$layout"
  umoci new --image "$layout:build"
  umoci unpack --image "$layout:build" "$bundle" >/dev/null
  "$fill" "$bundle/rootfs"
  find "$bundle/rootfs" -exec touch -h -d "@$epoch" {} +
  umoci repack --image "$layout:build" --history.created "$created" \
    --history.created_by "scripts/build-image.sh ($name)" "$bundle"
  umoci config --image "$layout:build" --no-history --created "$created" \
    --config.label "org.opencontainers.image.title=$name" "$@"
  umoci tag --image "$layout:build" "$ref"
  umoci rm --image "$layout:build"
  umoci gc --layout "$layout"
  chmod -R a+rX "$layout"
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=ustar \
    -C "$layout" -cf "$work/$name.oci.tar" oci-layout index.json blobs

  rm -rf "${out:?}/$name"
  mv "$layout" "$out/$name"
  mv "$work/$name.oci.tar" "$out/$name.oci.tar"
  local files bytes archive
  files=$(find "$bundle/rootfs" -type f | wc -l)
  bytes=$(find "$bundle/rootfs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  archive=$(stat -c %s "$out/$name.oci.tar")
  awk -v ref="$ref" -v a="$archive" -v b="$bytes" -v f="$files" -v path="$out/$name.oci.tar" \
    'BEGIN { printf "[image] %s: %.1f MiB compressed (%s), %.1f MiB unpacked in %d file%s\n",
             ref, a / 1048576, path, b / 1048576, f, f == 1 ? "" : "s" }' >&2
}

version="$("$binary" version | awk '{ print $2 }')"
pack wasm-operator localhost/wasm-operator:dev fill_host \
  --config.user "$nonroot:$nonroot" --config.workingdir /home/nonroot \
  --config.env PATH=/usr/local/bin --config.env HOME=/home/nonroot \
  --config.entrypoint /usr/local/bin/wasm-operator --config.cmd run \
  --config.exposedports 8080/tcp --config.exposedports 8081/tcp \
  --config.label "org.opencontainers.image.version=$version"
pack pause localhost/pause:dev fill_pause \
  --config.user 65535:65535 --config.entrypoint /pause
pack wop-client localhost/wop-client:dev fill_client \
  --config.user "$nonroot:$nonroot" --config.workingdir /home/nonroot \
  --config.env PATH=/usr/local/bin --config.env HOME=/home/nonroot \
  --config.entrypoint /usr/local/bin/kubectl

# The pods benchmark's client-go ring operator (bench/pods/run.py), when asked for with
# WOP_IMAGE_RING_CLIENTGO=<static binary> (scripts/setup-ring-baselines.sh builds it).
fill_ring_clientgo() {
  install -D -m 0755 "$WOP_IMAGE_RING_CLIENTGO" "$1/usr/local/bin/ring-clientgo"
  add_users "$1"
}
if [ -n "${WOP_IMAGE_RING_CLIENTGO:-}" ]; then
  [ -x "$WOP_IMAGE_RING_CLIENTGO" ] || die "WOP_IMAGE_RING_CLIENTGO=$WOP_IMAGE_RING_CLIENTGO is not executable"
  pack ring-client-go localhost/ring-client-go:dev fill_ring_clientgo \
    --config.user "$nonroot:$nonroot" --config.entrypoint /usr/local/bin/ring-clientgo
fi
