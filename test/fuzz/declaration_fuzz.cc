// Guest bytes as a controller declaration (wop_declare): parsing returns a Status, never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/declaration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto declaration =
      wop::runtime::parseDeclaration(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)declaration.isOk();
  return 0;
}
