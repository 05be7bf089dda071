#include "common/log_text.h"

#include <gtest/gtest.h>

namespace wop::common {
namespace {

TEST(EscapeLogTextTest, PlainTextAndUtf8PassUnchanged) {
  EXPECT_EQ(escapeLogText("reconciled ns/name: nonce 5"), "reconciled ns/name: nonce 5");
  EXPECT_EQ(escapeLogText("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(EscapeLogTextTest, EveryControlCharacterIsEscaped) {
  EXPECT_EQ(escapeLogText("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(escapeLogText("\x1b[2K\v\f"), "\\x1b[2K\\x0b\\x0c");
  EXPECT_EQ(escapeLogText(std::string_view("\0\x01\x1f\x7f", 4)), "\\x00\\x01\\x1f\\x7f");
  for (int c = 0; c < 0x20; ++c) {
    const std::string out = escapeLogText(std::string(1, static_cast<char>(c)));
    EXPECT_EQ(out[0], '\\') << c;
    for (char o : out) EXPECT_GE(static_cast<unsigned char>(o), 0x20) << c;
  }
}

TEST(EscapeLogTextTest, BackslashIsEscapedSoAnEscapeCannotBeForged) {
  // The guest writing a literal "\n" must not read as an escaped newline.
  EXPECT_EQ(escapeLogText("\\n"), "\\\\n");
}

TEST(EscapeLogTextTest, C1ControlsAreEscaped) {
  EXPECT_EQ(escapeLogText("\xC2\x9B"
                          "2K"),
            "\\u009b2K");  // CSI
}

TEST(EscapeLogTextTest, InvalidUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(escapeLogText("\xFF\xFE"), fffd + fffd);
  EXPECT_EQ(escapeLogText("\xC0\xAF"), fffd + fffd);                        // overlong "/"
  EXPECT_EQ(escapeLogText("\xED\xA0\x80"), fffd + fffd + fffd);             // surrogate
  EXPECT_EQ(escapeLogText("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_EQ(escapeLogText("ok\xE2\x82"), "ok" + fffd);  // truncated at the end: one subpart
  EXPECT_EQ(escapeLogText("\xE2\x82x"), fffd + "x");
}

}  // namespace
}  // namespace wop::common
