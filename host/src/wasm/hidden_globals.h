// Exports of a module's unexported globals, added by the host before it compiles the module,
// so that a snapshot can save and restore every mutable global (module_state_check.h): the
// Wasmtime API reaches a global only through an export.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace wop::wasm {

// The name under which the host exports a module's unexported global `index`.
std::string hiddenGlobalExportName(uint32_t index);

// The module with one more export per global in `indices` (each not yet exported), named
// hiddenGlobalExportName(index): only the export section changes (or one is added where it
// belongs); code, data and the name section stay byte for byte. Fails on bytes whose sections
// cannot be walked (section_reader.h: a bad header, a truncated, unknown or misordered
// section); the caller has already decoded the module (checkCapturableState).
common::Result<std::vector<uint8_t>> exportHiddenGlobals(std::span<const uint8_t> wasm,
                                                         const std::vector<uint32_t>& indices);

}  // namespace wop::wasm
