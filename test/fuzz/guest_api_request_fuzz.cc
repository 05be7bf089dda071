// Guest bytes as an API call (wop_api_call): parsing and building the HTTP request never crash,
// and an accepted request's path has no "." or ".." segment (libcurl would resolve it into
// another URL).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/guest_api_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto request = wop::runtime::parseGuestApiRequest(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (request) {
    const wop::kube::ResourceInfo resource{{"", "v1", "configmaps"}, "ConfigMap", true};
    auto http = wop::runtime::toHttpRequest(*request, resource, "fuzz");
    if (http) {
      const std::string path = http->path.substr(0, http->path.find('?'));
      if (path.find("/./") != std::string::npos || path.find("/../") != std::string::npos ||
          path.ends_with("/.") || path.ends_with("/..")) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
