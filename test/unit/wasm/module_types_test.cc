#include "wasm/module_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace wop::wasm::binary {
namespace {

using ::testing::HasSubstr;

Status limitsOf(const std::vector<uint8_t>& bytes, uint8_t allowed, ModuleLimits& out) {
  ByteReader reader(bytes, 0);
  return readLimits(reader, allowed, "memory 0", out);
}

TEST(ModuleTypes, ReadsLimitsWithAndWithoutAMaximum) {
  ModuleLimits limits;
  ASSERT_TRUE(limitsOf({0x01, 0x02, 0x10}, kMemoryLimitsFlags, limits).isOk());
  EXPECT_EQ(limits.min, 2u);
  EXPECT_EQ(limits.max, 16u);
  ASSERT_TRUE(limitsOf({0x00, 0x03}, kMemoryLimitsFlags, limits).isOk());
  EXPECT_EQ(limits.min, 3u);
  EXPECT_FALSE(limits.max);
}

TEST(ModuleTypes, OnlySixtyFourBitLimitsGoPastFourGiga) {
  ModuleLimits limits;
  const std::vector<uint8_t> big = {0x80, 0x80, 0x80, 0x80, 0x10};  // 2^32
  std::vector<uint8_t> narrow = {0x00};
  narrow.insert(narrow.end(), big.begin(), big.end());
  EXPECT_EQ(limitsOf(narrow, kMemoryLimitsFlags, limits).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> wide = {0x04};
  wide.insert(wide.end(), big.begin(), big.end());
  ASSERT_TRUE(limitsOf(wide, kMemoryLimitsFlags, limits).isOk());
  EXPECT_EQ(limits.min, uint64_t{1} << 32);
}

TEST(ModuleTypes, RefusesFlagsAndTypesItDoesNotKnow) {
  ModuleLimits limits;
  auto shared = limitsOf({0x03, 0x01, 0x01}, kTableLimitsFlags, limits);
  EXPECT_EQ(shared.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(shared.message(), "unsupported limits flags 0x03 in memory 0");
  const std::vector<uint8_t> typed = {0x63, 0x00, 0x00, 0x01};
  ByteReader reader(typed, 0);
  auto table = readTableType(reader, "table 0", limits);
  EXPECT_EQ(table.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(table.message(), HasSubstr("unsupported table type 0x63 in table 0"));
  const std::vector<uint8_t> exnref = {0x69};
  ByteReader valueReader(exnref, 0);
  ValType type;
  EXPECT_EQ(readValType(valueReader, type, "global 1").code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace wop::wasm::binary
