#include "common/log_text.h"

#include <cstdint>

#include "common/utf8.h"

namespace wop::common {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string escapeLogText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20 || c == 0x7F) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    size_t consumed = 0;
    const size_t length = utf8SequenceAt(text, i, &consumed);
    const auto second = length == 2 ? static_cast<uint8_t>(text[i + 1]) : 0;
    if (length == 0) {
      out += kReplacement;
      i += consumed;
    } else if (c == 0xC2 && second <= 0x9F) {  // a C1 control, U+0080..U+009F
      out += "\\u00";
      out += kHex[second >> 4];
      out += kHex[second & 0xF];
      i += length;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace wop::common
