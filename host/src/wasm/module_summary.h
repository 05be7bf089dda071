// The outline of a binary module, read before anything compiles it: what it imports and
// exports (with their kinds), how many functions and how many bytes of code it has, its tables
// and memories, and whether it has a start function. The host refuses a module on these facts,
// with a one-line reason, before paying for compilation (a module of 200,000 empty functions
// took a gigabyte of host memory to compile).
//
// Only the section headers and the import, function, table, memory, export, start and code
// section headers are read; function bodies, types, globals and segments are skipped (Wasmtime
// validates them when it compiles).
//
// Thread-safety: a pure function of its input; the result copies the names it keeps.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "wasm/module_types.h"  // ModuleLimits

namespace wop::wasm {

enum class ExternKind : uint8_t { kFunction = 0, kTable = 1, kMemory = 2, kGlobal = 3, kTag = 4 };
// "function", "table", "memory", "global" or "tag".
const char* externKindName(ExternKind kind);

struct ModuleImport {
  std::string module;
  std::string name;
  ExternKind kind;
};

struct ModuleExport {
  std::string name;
  ExternKind kind;
  uint32_t index;  // in the index space of its kind (imports first)
};

struct ModuleSummary {
  std::vector<ModuleImport> imports;
  std::vector<ModuleExport> exports;
  uint32_t definedFunctions = 0;
  uint64_t codeBytes = 0;              // size of the code section (all function bodies)
  std::vector<ModuleLimits> tables;    // imported ones first, as indexed
  std::vector<ModuleLimits> memories;  // imported ones first, as indexed
  bool hasStartFunction = false;
};

// Reads the outline in one pass (never throws on bad input, never reads out of bounds, work
// bounded by the input's size). Errors carry a one-line reason:
//  - kInvalidArgument: not a well-formed core module (bad header, truncated or misordered
//    sections, bad LEB128, counts beyond the bytes left);
//  - kFailedPrecondition: a construct the outline cannot read and the host does not run
//    (typed references in an import or a table, tables with initializers, unknown limits flags).
common::Result<ModuleSummary> summarizeModule(std::span<const uint8_t> wasm);

}  // namespace wop::wasm
