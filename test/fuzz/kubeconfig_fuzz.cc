// Arbitrary bytes as a kubeconfig: parsing must return a Status, never crash, throw or hang.
// yaml-cpp throws on malformed input and on type mismatches; parseKubeconfig must catch them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto config = wop::kube::parseKubeconfig(yaml, "/fuzz/kubeconfig");
  (void)config.isOk();
  auto overridden = wop::kube::parseKubeconfig(yaml, "/fuzz/kubeconfig", "fuzz");
  (void)overridden.isOk();
  return 0;
}
