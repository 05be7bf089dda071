// Arbitrary bytes as a module to snapshot: the state check returns a verdict or an error,
// never crashes, reads out of bounds or hangs.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wasm/module_state_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto state = wop::wasm::checkCapturableState(std::span<const uint8_t>(data, size));
  if (state) {
    // One name per exported global, each taken from the input.
    if (state->exportedMutableGlobals.size() > size) __builtin_trap();
  } else if (state.status().message().empty() ||
             state.status().message().find('\n') != std::string::npos) {
    __builtin_trap();  // every refusal is one line a user can read
  }
  return 0;
}
