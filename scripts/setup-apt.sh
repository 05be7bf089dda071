#!/usr/bin/env bash
# Installs the Debian packages the build, the guests and the benchmarks need.
# Idempotent: does nothing when all are present. Needs root (or sudo).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

packages=(
  # guest toolchain: C++ to wasm32-wasi
  "clang-$WOP_LLVM_MAJOR" "lld-$WOP_LLVM_MAJOR" "clang-format-$WOP_LLVM_MAJOR" wasi-libc
  "libc++-$WOP_LLVM_MAJOR-dev-wasm32" "libc++abi-$WOP_LLVM_MAJOR-dev-wasm32"
  "libclang-rt-$WOP_LLVM_MAJOR-dev-wasm32"
  # host build
  cmake ninja-build pkg-config g++ make ccache
  libcurl4-openssl-dev libssl-dev libsimdjson-dev libyaml-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev "libclang-rt-$WOP_LLVM_MAJOR-dev"
  # metrics and health endpoints
  libmicrohttpd-dev
  # test control plane and benchmarks
  openssl curl python3 python3-matplotlib python3-prometheus-client procps
  # OCI registry tests (issue 13): a real registry on loopback, bcrypt htpasswd for its basic auth
  docker-registry apache2-utils
  # container images without a daemon or a base image (`make image`, scripts/build-image.sh);
  # containerd's ctr checks that the archives import as a node would import them
  umoci containerd
  # the test node (issue 15, testenv/node.py): containerd runs pods with runc, networks them
  # with the standard CNI plugins (bridge, host-local, portmap, loopback), and kube-proxy
  # programs Services with iptables (nf_tables backend) and conntrack
  runc containernetworking-plugins iptables conntrack
  # the Rust guest SDK (sdk-rust/): Debian's rustc with its wasm32-wasi standard library
  rustc cargo libstd-rust-dev-wasm32
)

take_lock apt
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

say "installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
log="$WOP_CACHE/logs/apt.log"
run_logged "apt-get update" "$log" $sudo apt-get update
run_logged "apt-get install ${missing[*]}" "$log" $sudo apt-get install -y --no-install-recommends "${missing[@]}"
say "Debian packages installed"
