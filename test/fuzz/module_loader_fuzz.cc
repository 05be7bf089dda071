// Arbitrary bytes as a guest module: loading must return a Status, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wasm/guest_module.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static wop::wasm::Engine engine;
  auto module =
      wop::wasm::GuestModule::compile(engine, std::span<const uint8_t>(data, size), "fuzz");
  (void)module.isOk();
  return 0;
}
