// The one walk over a binary module's sections, shared by every decoder of untrusted modules
// (module_summary.h, module_state_check.h, hidden_globals.h): the header is checked once, and
// each section is handed out with its body bounds-checked against the module.
//
// Thread-safety: a cursor over bytes it does not own; they must outlive it and every Section
// it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/status.h"
#include "wasm/wasm_reader.h"

namespace wop::wasm::binary {

// Section ids of the core binary format (the tag section is the exception-handling proposal's).
enum SectionId : uint8_t {
  kCustomSection = 0,
  kTypeSection = 1,
  kImportSection = 2,
  kFunctionSection = 3,
  kTableSection = 4,
  kMemorySection = 5,
  kGlobalSection = 6,
  kExportSection = 7,
  kStartSection = 8,
  kElementSection = 9,
  kCodeSection = 10,
  kDataSection = 11,
  kDataCountSection = 12,
  kTagSection = 13,
};
inline constexpr size_t kModuleHeaderBytes = 8;  // "\0asm" and version 1

struct Section {
  uint8_t id = 0;
  size_t start = 0;  // module offset of its id byte
  size_t end = 0;    // module offset just past its body
  ByteReader body;   // its contents; a custom section's start with its name
};

class SectionReader {
 public:
  // Refuses bytes that do not start with the core module header (kInvalidArgument, "not a core
  // WebAssembly module").
  static common::Result<SectionReader> open(std::span<const uint8_t> wasm);

  // The next section in file order into `out`, or std::nullopt after the last one. Malformed
  // (kInvalidArgument, naming the offset): a section header or size that runs past the end of
  // the module, an unknown section id, a non-custom section out of the order the spec
  // requires or repeated. Callers stop at the first error.
  Status next(std::optional<Section>& out);

 private:
  explicit SectionReader(ByteReader reader) : reader_(reader) {}

  ByteReader reader_;
  int lastRank_ = 0;  // rank of the last non-custom section
};

}  // namespace wop::wasm::binary
