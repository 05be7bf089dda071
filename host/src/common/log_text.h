// Text that goes into a log line from a guest or the network, made safe for a terminal and for
// line-oriented log readers: no byte of it can end the line, move the cursor, start an escape
// sequence or break the UTF-8 of the line, so a guest cannot forge a line that reads as
// another operator's (DESIGN.md principle 10).
#pragma once

#include <string>
#include <string_view>

namespace wop::common {

// Escapes every control character (all bytes below 0x20, and 0x7f) as \n \r \t or \xNN, and a
// backslash as \\, so the escaping is reversible; bytes that are not valid UTF-8 (overlong
// forms, surrogates, code points above U+10FFFF, truncated sequences) become
// U+FFFD, one per maximal ill-formed subpart as common/utf8.h replaces them. C1
// controls (U+0080..U+009F, which some terminals obey) are escaped as \u0080..\u009f.
std::string escapeLogText(std::string_view text);

}  // namespace wop::common
