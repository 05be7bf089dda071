#include "common/base64.h"

#include <array>
#include <cstdint>

namespace wop::common {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> makeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr std::array<int8_t, 256> kDecodeTable = makeDecodeTable();

bool isIgnoredSpace(char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; }

Status invalid(std::string what) { return Status(StatusCode::kInvalidArgument, std::move(what)); }

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64Decode(std::string_view text) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (!isIgnoredSpace(c)) compact += c;
  }
  if (compact.size() % 4 != 0) {
    return invalid("length " + std::to_string(compact.size()) + " is not a multiple of 4");
  }
  std::string out;
  out.reserve(compact.size() / 4 * 3);
  for (size_t i = 0; i < compact.size(); i += 4) {
    const bool last = i + 4 == compact.size();
    const int padding = (compact[i + 3] == '=') + (compact[i + 2] == '=');
    if (padding > 0 && !last) return invalid("padding '=' before the end");
    if (padding == 1 && compact[i + 2] == '=') return invalid("padding '=' before the end");
    uint32_t n = 0;
    for (int k = 0; k < 4 - padding; ++k) {
      const int8_t value = kDecodeTable[static_cast<unsigned char>(compact[i + k])];
      if (value == kInvalid) {
        return invalid("unexpected character at offset " + std::to_string(i + k));
      }
      n |= uint32_t(value) << (18 - 6 * k);
    }
    out += static_cast<char>((n >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

}  // namespace wop::common
