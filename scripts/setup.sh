#!/usr/bin/env bash
# Installs and builds everything the project needs, then writes build/deps.cmake for CMake.
# Idempotent and quick when nothing is missing; each step says what it does.
#   scripts/setup.sh [BUILD_DIR]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build_dir="${1:-$WOP_ROOT/build}"

bash "$WOP_ROOT/scripts/setup-apt.sh"
need_cmd cargo "install Rust (rustup) to build Wasmtime's C API"
need_cmd go "install Go 1.25 or newer to build the test control plane"
wasmtime_prefix=$(bash "$WOP_ROOT/scripts/setup-wasmtime.sh")
kube_bin=$(bash "$WOP_ROOT/scripts/setup-kubernetes.sh")
oras_bin=$(bash "$WOP_ROOT/scripts/setup-oras.sh")

mkdir -p "$build_dir"
cat > "$build_dir/deps.cmake.tmp" <<CMAKE
# Written by scripts/setup.sh: where the pinned dependencies were built (outside the checkout).
set(WOP_WASMTIME_PREFIX "$wasmtime_prefix" CACHE PATH "" FORCE)
set(WOP_WASMTIME_VERSION "$WOP_WASMTIME_VERSION" CACHE STRING "" FORCE)
set(WOP_KUBE_BIN "$kube_bin" CACHE PATH "" FORCE)
set(WOP_KUBERNETES_VERSION "$WOP_KUBERNETES_VERSION" CACHE STRING "" FORCE)
set(WOP_ETCD_VERSION "$WOP_ETCD_VERSION" CACHE STRING "" FORCE)
set(WOP_ORAS_BIN "$oras_bin" CACHE FILEPATH "" FORCE)
set(WOP_ORAS_VERSION "$WOP_ORAS_VERSION" CACHE STRING "" FORCE)
set(WOP_LLVM_MAJOR "$WOP_LLVM_MAJOR" CACHE STRING "" FORCE)
CMAKE
# Only touch deps.cmake when it changes, so CMake does not reconfigure for nothing.
if cmp -s "$build_dir/deps.cmake.tmp" "$build_dir/deps.cmake"; then
  rm "$build_dir/deps.cmake.tmp"
else
  mv "$build_dir/deps.cmake.tmp" "$build_dir/deps.cmake"
fi
