#!/usr/bin/env bash
# The linker cargo uses for wasm32-wasi Rust guests (cmake/RustGuest.cmake): Debian's
# wasm-ld-19, with each .rlib argument replaced by a copy without its lib.rmeta member.
#
# Why: Debian's rustc 1.63 links wasm with `rust-lld`, a link to lld-14, which is only a
# Suggests of rustc and not installed. wasm-ld-19 (installed for the C++ guests) refuses the
# rlib rustc passes it (libcompiler_builtins-*.rlib): since lld 15 every archive member is
# read, and lld says "archive member 'lib.rmeta' is neither Wasm object file nor LLVM bitcode".
# The member is Rust metadata, never linked, so a copy without it links the same code.
#
# WOP_WASM_LD: the wasm-ld to run. WOP_RUST_LINK_DIR: where the rlib copies are kept (one
# per rlib, made once; the build tree's).
set -euo pipefail
: "${WOP_WASM_LD:?set WOP_WASM_LD to wasm-ld}"
: "${WOP_RUST_LINK_DIR:?set WOP_RUST_LINK_DIR to a folder for rlib copies}"
mkdir -p "$WOP_RUST_LINK_DIR"
args=()
for arg in "$@"; do
  if [[ "$arg" == *.rlib && -f "$arg" ]]; then
    copy="$WOP_RUST_LINK_DIR/$(basename "$arg")"
    if [[ ! -f "$copy" || "$arg" -nt "$copy" ]]; then
      tmp="$(mktemp "$copy.XXXXXX")"
      cp "$arg" "$tmp"
      ar d "$tmp" lib.rmeta
      mv -f "$tmp" "$copy"  # atomic: parallel links see the old copy or the new one
    fi
    arg="$copy"
  fi
  args+=("$arg")
done
exec "$WOP_WASM_LD" "${args[@]}"
