#include "common/base64.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wop::common {
namespace {

using ::testing::HasSubstr;

TEST(Base64, EncodesWithPadding) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Encode(std::string("\xff\x00\xfe", 3)), "/wD+");
}

TEST(Base64, DecodingReversesEncodingForEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t length = 0; length <= all.size(); ++length) {
    const std::string bytes = all.substr(all.size() - length);
    auto decoded = base64Decode(base64Encode(bytes));
    ASSERT_TRUE(decoded.isOk());
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64, LineBreaksAreIgnoredAsInWrappedPem) {
  auto decoded = base64Decode("Zm9v\nYmFy\r\n");
  ASSERT_TRUE(decoded.isOk());
  EXPECT_EQ(*decoded, "foobar");
}

TEST(Base64, InvalidInputIsRejectedSayingWhy) {
  EXPECT_THAT(base64Decode("Zm9").status().message(), HasSubstr("not a multiple of 4"));
  EXPECT_THAT(base64Decode("Zm9*").status().message(), HasSubstr("unexpected character"));
  EXPECT_THAT(base64Decode("Zg==Zm9v").status().message(), HasSubstr("padding"));
  EXPECT_THAT(base64Decode("Zm=v").status().message(), HasSubstr("padding"));
  EXPECT_FALSE(base64Decode("Z===").isOk());
}

}  // namespace
}  // namespace wop::common
