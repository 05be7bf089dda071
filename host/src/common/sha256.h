// SHA-256 as lower-case hex: module pins, the module and artifact caches, OCI digests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wop::common {

std::string sha256Hex(std::span<const uint8_t> bytes);
std::string sha256Hex(std::string_view bytes);

// 64 lower-case hex digits, as sha256Hex writes them.
bool isSha256Hex(std::string_view text);

}  // namespace wop::common
