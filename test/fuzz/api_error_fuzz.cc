// Arbitrary bytes as an error response body, with an HTTP status from the first byte and a
// Retry-After header from the next few: building the error must never crash, and its message
// must be valid UTF-8 without control characters (it is written as strict JSON and logged).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/utf8.h"
#include "kube/api_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int httpStatus = 400 + data[0] % 200;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::optional<std::string_view> header;
  if (!rest.empty()) {
    const size_t headerBytes = static_cast<uint8_t>(rest[0]) % 8;
    rest.remove_prefix(1);
    if (headerBytes > 0 && rest.size() >= headerBytes) {
      header = rest.substr(0, headerBytes);
      rest.remove_prefix(headerBytes);
    }
  }
  wop::kube::ApiError error = wop::kube::apiErrorFromResponse(httpStatus, rest, header);
  (void)error.isRetryable();
  (void)error.toStatus();
  const int retryAfter = error.retryAfterSeconds.value_or(0);
  if (retryAfter < 0 || retryAfter > 3600) __builtin_trap();
  if (!wop::common::isValidUtf8(error.message)) __builtin_trap();
  for (char c : error.message) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();
  }
  return 0;
}
