// Guest bytes as an API call (wop_api_call): parsing and building the HTTP request never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/guest_api_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto request = wop::runtime::parseGuestApiRequest(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (request) {
    const wop::kube::ResourceInfo resource{{"", "v1", "configmaps"}, "ConfigMap", true};
    auto http = wop::runtime::toHttpRequest(*request, resource, "fuzz");
    (void)http.isOk();
  }
  return 0;
}
