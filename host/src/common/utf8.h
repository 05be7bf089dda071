// Text from the network (an API server's or a webhook's error message) is bytes, not UTF-8:
// a strict JSON writer (nlohmann's dump) throws on an invalid sequence, which on the I/O
// thread ends the host. Such text is made valid once, where it enters, with these.
#pragma once

#include <string>
#include <string_view>

namespace wop::common {

// Length of the well-formed sequence starting at text[i] (1 to 4), or 0 when there is none, with
// *consumed set to the length of the maximal ill-formed subpart there (at least 1), which is
// what one U+FFFD replaces. i < text.size().
size_t utf8SequenceAt(std::string_view text, size_t i, size_t* consumed);

// True if text is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF).
bool isValidUtf8(std::string_view text);

// The longest start of text of at most maxBytes that does not cut a character in two (a cut
// backs up over continuation bytes). text need not be valid.
std::string_view utf8Prefix(std::string_view text, size_t maxBytes);

// text with every ill-formed sequence replaced by U+FFFD, one per maximal ill-formed
// subpart (the Unicode "substitution of maximal subparts" practice, as browsers do).
std::string toValidUtf8(std::string_view text);

}  // namespace wop::common
