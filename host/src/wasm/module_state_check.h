// Static check that a module's state between entries can be snapshotted faithfully.
//
// Why our own decoder, not a maintained parser. The check needs instruction-level facts
// (does any body or initializer execute table.set, table.grow, elem.drop, data.drop...) and
// the globals a module does not export. Wasmtime 48's C API (wasmtime/module.h) offers a
// module's imports and exports (names and extern types), validation, serialization and its
// image range, and nothing about function bodies, unexported globals, segments or the name
// section; its C++ wasmtime.hh wraps the same. wasmparser would do, but only through a Rust
// shim crate: a second cargo build in every fresh setup (scripts/setup.sh builds the C API
// once, for several minutes), a second copy of the parser linked beside the engine's (the C
// API exports none of its symbols), and a C ABI of our own to keep in step with it. So the
// decoder stays, split so that a new proposal touches one place: wasm_reader.h (bytes and
// LEB128), section_reader.h (the one walk over sections, shared with module_summary.h and
// hidden_globals.h), module_types.h (value and table types, limits), expression_decoder.h
// (opcodes and their immediates; an unknown opcode is refused naming it and its offset, never
// skipped), expression_check.h (which instructions change a table or drop a segment),
// name_section.h (names for messages), and this file (the module-level rules). A proposal the
// decoder does not know fails closed: the module is not capturable, so its operator runs but
// is never swapped out.
//
// An idle operator (no wasm frame live) may be swapped out: the snapshot holds its linear
// memory and the values of all its mutable globals, and is restored into a fresh instance of
// the same module. Globals the module does not export (clang's __stack_pointer, and whatever
// else a module keeps there) are exported by the host under names of its own before it
// compiles the module (hidden_globals.h), so that they can be read and set like the others;
// which one is the stack pointer is never guessed (a name section can say anything). That is
// only faithful when nothing else can differ between the old instance and a fresh one: no
// table changed at run time, no segment dropped, no imported mutable global, no mutable global
// of a reference or vector type, no GC heap or exception tags. checkCapturableState reads the
// binary module once and says so, or names the culprit; anything it cannot decode with
// certainty is refused, never passed.
//
// Thread-safety: a pure function of its input; the result holds no view into it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace wop::wasm {

// What a snapshot of an instance must save besides its linear memory.
struct CapturableState {
  // Export names of the mutable globals a snapshot must save, in global index order, one name
  // per global: the first export of it, or hiddenGlobalExportName(index) for a global the
  // module does not export. Their types are i32, i64, f32 or f64 only.
  std::vector<std::string> exportedMutableGlobals;
  // Indices of the mutable globals the module does not export: the module must be compiled
  // with exportHiddenGlobals (hidden_globals.h) for a snapshot to reach them.
  std::vector<uint32_t> hiddenMutableGlobals;
};

// Parses the binary module in one linear pass (never throws on bad input, never reads out of
// bounds, work bounded by the input's size, which is capped at limits::kMaxModuleBytes).
// Returns the state to save when the module's whole state between entries is linear memory plus
// mutable globals of number types. Errors carry a one-line reason naming the culprit:
//  - kFailedPrecondition: a well-formed module whose state cannot be captured, or one using an
//    instruction or feature this check does not decode (SIMD beyond 0xfd 0xff, GC,
//    exception handling, typed function references);
//  - kInvalidArgument: bytes that are not a well-formed module (truncated, bad LEB128, sizes or
//    counts beyond the end or beyond this check's limits);
//  - kResourceExhausted: a module larger than limits::kMaxModuleBytes.
common::Result<CapturableState> checkCapturableState(std::span<const uint8_t> wasm);

}  // namespace wop::wasm
