// Guest bytes as an outbound HTTP request (wop_http_call): decoding never crashes, and an
// accepted request's URL is canonical (it parses again to itself), holds no byte a transport
// or a log line could misread (space, control, non-ASCII, '@' before the path, '#', '\'),
// and its headers hold no CR, LF or NUL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "outbound/outbound_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Both ways in: as the whole JSON request, and as the URL alone.
  auto url = wop::outbound::parseOutboundUrl(input);
  auto request = wop::outbound::parseOutboundRequest(input);
  if (request) url = request->url;
  if (url) {
    const std::string text = url->text();
    auto again = wop::outbound::parseOutboundUrl(text);
    if (!again || again->text() != text) __builtin_trap();
    for (char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte <= 0x20 || byte >= 0x7f || c == '#' || c == '\\') __builtin_trap();
    }
    if (text.substr(0, text.find('/', 8)).find('@') != std::string::npos) __builtin_trap();
  }
  if (request) {
    for (const auto& [name, value] : request->headers) {
      if ((name + value).find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
