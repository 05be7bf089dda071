// ABI v1 on the host side: what a module must look like (marker, exports, imports) and the
// host functions it may import, defined into a Linker. Each domain's functions live in a file
// of their own (log.cc, config.cc, declare.cc, cache.cc, api.cc, reconcile.cc).
#pragma once

#include <wasmtime.hh>

#include "common/status.h"
#include "wasm/guest_module.h"

namespace wop::hostcalls {

// Requirements for an operator module; maxMemoryBytes is the operator's memory cap.
wasm::ModuleRequirements abiV1Requirements(uint64_t maxMemoryBytes);

// Defines every "wop" host function. The store's GuestState::embedder must point to the
// instance's OperatorServices.
common::Status defineAbiV1(wasmtime::Linker& linker);

}  // namespace wop::hostcalls
