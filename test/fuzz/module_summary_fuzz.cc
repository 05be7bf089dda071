// Arbitrary bytes as a module to outline before compiling, and to add hidden-global exports to:
// each returns a result or a one-line error, never crashes, reads out of bounds or hangs.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wasm/hidden_globals.h"
#include "wasm/module_summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  auto summary = wop::wasm::summarizeModule(bytes);
  if (summary) {
    // Every entry takes at least one byte of the input.
    if (summary->imports.size() + summary->exports.size() > size) __builtin_trap();
    if (summary->codeBytes > size) __builtin_trap();
  } else if (summary.status().message().empty() ||
             summary.status().message().find('\n') != std::string::npos) {
    __builtin_trap();
  }
  auto rewritten = wop::wasm::exportHiddenGlobals(bytes, {0, 1});
  if (rewritten && rewritten->size() < size) __builtin_trap();  // only ever adds
  return 0;
}
