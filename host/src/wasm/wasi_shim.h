// The small part of WASI preview 1 that guests built with wasi-libc import: stdout/stderr
// (captured into the guest's state, never to the host's own streams), clocks, randomness,
// empty args and environment, and proc_exit as a trap. No files, no sockets: a guest reaches
// the world only through the host calls of the ABI.
#pragma once

#include <string_view>
#include <wasmtime.hh>

#include "common/status.h"

namespace wop::wasm {

inline constexpr std::string_view kWasiModule = "wasi_snapshot_preview1";

// Defines every shim function in linker.
common::Status defineWasiShim(wasmtime::Linker& linker);

// True if the shim defines module.name.
bool isWasiShimImport(std::string_view module, std::string_view name);

}  // namespace wop::wasm
