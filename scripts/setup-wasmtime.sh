#!/usr/bin/env bash
# Builds Wasmtime's C/C++ API (pinned in third_party/wasmtime-capi) into the cache and prints
# nothing when it is already there. Result: $prefix/lib/libwasmtime.so, $prefix/include.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

crate="$WOP_ROOT/third_party/wasmtime-capi"
# Key on the version and on the exact crate definition (features, lock file).
key=$(cat "$crate/Cargo.toml" "$crate/Cargo.lock" "$crate/build.rs" | sha256sum | cut -c1-12)
prefix="$WOP_CACHE/wasmtime-$WOP_WASMTIME_VERSION-$key"
if [ -f "$prefix/lib/libwasmtime.so" ] && [ -f "$prefix/include/wasmtime.hh" ]; then
  echo "$prefix"; exit 0
fi

take_lock wasmtime
if [ -f "$prefix/lib/libwasmtime.so" ] && [ -f "$prefix/include/wasmtime.hh" ]; then
  echo "$prefix"; exit 0  # built by another run while we waited
fi
need_cmd cargo "install Rust (rustup) to build Wasmtime's C API"
say "building Wasmtime C API $WOP_WASMTIME_VERSION (once; several minutes)"
target="$WOP_CACHE/cargo-target/wasmtime-capi"
log="$WOP_CACHE/logs/wasmtime-$WOP_WASMTIME_VERSION.log"
run_logged "cargo build of Wasmtime's C API" "$log" \
  cargo build --release --locked --manifest-path "$crate/Cargo.toml" --target-dir "$target"

include=$(cat "$(ls -td "$target"/release/build/wop-wasmtime-capi-*/out | head -n1)/include-path.txt")
[ -f "$include/wasmtime.hh" ] || die "Wasmtime headers not found in $include"
tmp="$prefix.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp/lib"
cp -r "$include" "$tmp/include"
cp "$target/release/libwasmtime.so" "$tmp/lib/libwasmtime.so"
rm -rf "$prefix"; mv "$tmp" "$prefix"
say "Wasmtime C API ready in $prefix"
echo "$prefix"
