#include "wasm/guest_memory.h"

#include <gtest/gtest.h>

#include <vector>

namespace wop::wasm {
namespace {

class GuestMemoryTest : public ::testing::Test {
 protected:
  std::vector<uint8_t> bytes_ = std::vector<uint8_t>(64, 0);
  GuestMemory memory_{std::span<uint8_t>(bytes_)};
};

TEST_F(GuestMemoryTest, ReadsARangeInside) {
  bytes_[10] = 'h';
  bytes_[11] = 'i';
  auto text = memory_.readString(10, 2);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "hi");
}

TEST_F(GuestMemoryTest, ReadsUpToTheLastByte) {
  EXPECT_TRUE(memory_.read(0, 64));
  EXPECT_TRUE(memory_.read(63, 1));
  EXPECT_TRUE(memory_.read(64, 0));
}

TEST_F(GuestMemoryTest, RefusesARangePastTheEnd) {
  EXPECT_FALSE(memory_.read(63, 2));
  EXPECT_FALSE(memory_.read(65, 0));
  EXPECT_FALSE(memory_.read(0, 65));
}

TEST_F(GuestMemoryTest, RefusesRangesThatWouldOverflow) {
  EXPECT_FALSE(memory_.read(UINT32_MAX, 2));
  EXPECT_FALSE(memory_.read(2, UINT32_MAX));
  EXPECT_FALSE(memory_.read(UINT32_MAX, UINT32_MAX));
}

TEST_F(GuestMemoryTest, WritesAndReadsLittleEndianIntegers) {
  ASSERT_TRUE(memory_.writeU32(4, 0x01020304));
  EXPECT_EQ(bytes_[4], 0x04);
  EXPECT_EQ(memory_.readU32(4), 0x01020304u);
  EXPECT_FALSE(memory_.writeU32(62, 1));
  EXPECT_FALSE(memory_.writeU64(60, 1));
}

TEST_F(GuestMemoryTest, AFailedWriteChangesNothing) {
  std::vector<uint8_t> data(8, 0xff);
  EXPECT_FALSE(memory_.write(60, data));
  EXPECT_EQ(bytes_[60], 0);
}

}  // namespace
}  // namespace wop::wasm
