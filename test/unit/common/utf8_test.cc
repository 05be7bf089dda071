#include "common/utf8.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace wop::common {
namespace {

TEST(Utf8, WellFormedTextIsKeptAsItIs) {
  for (std::string_view text : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80",
                                "\xEF\xBF\xBD", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(isValidUtf8(text)) << text;
    EXPECT_EQ(toValidUtf8(text), text);
  }
}

TEST(Utf8, IllFormedSequencesBecomeReplacementCharacters) {
  // A stray continuation byte, a truncated sequence, an overlong '/', a surrogate, a code
  // point past U+10FFFF, bytes that never occur.
  EXPECT_EQ(toValidUtf8("a\x80z"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(toValidUtf8("a\xE2\x82"), "a\xEF\xBF\xBD");
  EXPECT_EQ(toValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(toValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(toValidUtf8("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(toValidUtf8("\xFE\xFF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  for (std::string_view text : {"a\x80z", "a\xE2\x82", "\xC0\xAF", "\xED\xA0\x80", "\xFF"}) {
    EXPECT_FALSE(isValidUtf8(text));
    EXPECT_TRUE(isValidUtf8(toValidUtf8(text)));
  }
}

TEST(Utf8, RepairedTextCanBeWrittenAsStrictJson) {
  const std::string repaired = toValidUtf8("denied by webhook: \xC3\x28 \xFF");
  EXPECT_NO_THROW((void)nlohmann::json({{"message", repaired}}).dump());
}

}  // namespace
}  // namespace wop::common
