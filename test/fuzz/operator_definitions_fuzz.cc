// Arbitrary bytes as an operator definitions file: a Status naming what is wrong, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/operator_definitions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto specs = wop::server::parseOperatorDefinitions(
      std::string(reinterpret_cast<const char*>(data), size), "/fuzz/operators.yaml");
  (void)specs.isOk();
  return 0;
}
