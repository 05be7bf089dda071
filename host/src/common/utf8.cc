#include "common/utf8.h"

#include <cstdint>

namespace wop::common {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

size_t utf8SequenceAt(std::string_view text, size_t i, size_t* consumed) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint8_t low = 0x80, high = 0xBF;  // allowed range of the first continuation byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // no overlong forms
    if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    *consumed = 1;
    return 0;
  }
  for (size_t k = 1; k < length; ++k) {
    const bool inRange = i + k < text.size() && byte(i + k) >= (k == 1 ? low : 0x80) &&
                         byte(i + k) <= (k == 1 ? high : 0xBF);
    if (!inRange) {
      *consumed = k;
      return 0;
    }
  }
  return length;
}

bool isValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t consumed = 0;
    const size_t length = utf8SequenceAt(text, i, &consumed);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string_view utf8Prefix(std::string_view text, size_t maxBytes) {
  if (text.size() <= maxBytes) return text;
  size_t cut = maxBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

std::string toValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t consumed = 0;
    const size_t length = utf8SequenceAt(text, i, &consumed);
    if (length == 0) {
      out += kReplacement;
      i += consumed;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace wop::common
