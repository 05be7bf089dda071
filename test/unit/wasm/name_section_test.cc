#include "wasm/name_section.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace wop::wasm::binary {
namespace {

using ::testing::HasSubstr;

TEST(NameSection, NamesFunctionsAndGlobalsItKnows) {
  // Subsection 1: function 2 is "run"; subsection 7: global 0 is "sp\n" (quoted safely).
  const std::vector<uint8_t> payload = {0x01, 0x06, 0x01, 0x02, 0x03, 'r', 'u', 'n',
                                        0x07, 0x06, 0x01, 0x00, 0x03, 's', 'p', '\n'};
  NameSection names;
  ASSERT_TRUE(names.parse(ByteReader(payload, 0)).isOk());
  EXPECT_EQ(names.describeFunction(2), "function 2 ($run)");
  EXPECT_EQ(names.describeFunction(3), "function 3");
  EXPECT_EQ(names.describeGlobal(0), "global 0 ($sp?)");
  EXPECT_EQ(NameSection().describeGlobal(5), "global 5");
}

TEST(NameSection, RefusesMalformedSubsections) {
  const std::vector<uint8_t> pastTheEnd = {0x01, 0x09, 0x01};
  EXPECT_THAT(NameSection().parse(ByteReader(pastTheEnd, 0)).message(),
              HasSubstr("name subsection"));
  const std::vector<uint8_t> shortName = {0x01, 0x03, 0x01, 0x00, 0x05};
  EXPECT_THAT(NameSection().parse(ByteReader(shortName, 0)).message(), HasSubstr("name map entry"));
  const std::vector<uint8_t> otherKinds = {0x04, 0x02, 0xff, 0xff};  // type names: skipped
  EXPECT_TRUE(NameSection().parse(ByteReader(otherKinds, 0)).isOk());
}

}  // namespace
}  // namespace wop::wasm::binary
