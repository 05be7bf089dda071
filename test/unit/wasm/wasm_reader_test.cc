#include "wasm/wasm_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace wop::wasm::binary {
namespace {

using ::testing::HasSubstr;

ByteReader readerOf(const std::vector<uint8_t>& bytes, size_t base = 0) {
  return ByteReader(bytes, base);
}

TEST(ByteReader, ReadsUnsignedLeb128) {
  const std::vector<uint8_t> bytes = {0xe5, 0x8e, 0x26, 0xff, 0xff, 0xff, 0xff, 0x0f};
  ByteReader reader = readerOf(bytes);
  uint32_t value = 0;
  ASSERT_TRUE(reader.readU32(value));
  EXPECT_EQ(value, 624485u);
  ASSERT_TRUE(reader.readU32(value));
  EXPECT_EQ(value, UINT32_MAX);
  EXPECT_TRUE(reader.atEnd());
}

TEST(ByteReader, ReadsSignedLeb128SignExtended) {
  const std::vector<uint8_t> bytes = {0x40, 0x7f, 0x80, 0x7f};
  ByteReader reader = readerOf(bytes);
  int64_t value = 0;
  ASSERT_TRUE(reader.readS33(value));
  EXPECT_EQ(value, -64);
  ASSERT_TRUE(reader.readS33(value));
  EXPECT_EQ(value, -1);
  ASSERT_TRUE(reader.readS33(value));
  EXPECT_EQ(value, -128);
}

TEST(ByteReader, RefusesATruncatedLeb128) {
  for (const std::vector<uint8_t>& bytes :
       {std::vector<uint8_t>{}, {0x80}, {0xff, 0xff}, {0x80, 0x80, 0x80, 0x80}}) {
    ByteReader reader = readerOf(bytes);
    uint32_t value = 0;
    EXPECT_FALSE(reader.readU32(value)) << bytes.size() << " bytes";
  }
  const std::vector<uint8_t> signedBytes = {0xc0};
  ByteReader reader = readerOf(signedBytes);
  EXPECT_FALSE(reader.skipSigned(32));
}

TEST(ByteReader, RefusesAnOverLongLeb128) {
  // Six bytes for a u32 (at most five), and five whose last byte sets bits beyond bit 31.
  const std::vector<uint8_t> sixBytes = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  const std::vector<uint8_t> highBits = {0xff, 0xff, 0xff, 0xff, 0x1f};
  uint32_t value = 0;
  ByteReader six = readerOf(sixBytes);
  EXPECT_FALSE(six.readU32(value));
  ByteReader high = readerOf(highBits);
  EXPECT_FALSE(high.readU32(value));
  // A signed 32-bit value whose unused bits are not copies of its sign bit.
  const std::vector<uint8_t> badSign = {0xff, 0xff, 0xff, 0xff, 0x4f};
  ByteReader sign = readerOf(badSign);
  EXPECT_FALSE(sign.skipSigned(32));
  // Eleven bytes for a u64 (at most ten).
  std::vector<uint8_t> eleven(10, 0x80);
  eleven.push_back(0x00);
  ByteReader u64 = readerOf(eleven);
  uint64_t wide = 0;
  EXPECT_FALSE(u64.readU64(wide));
}

TEST(ByteReader, NeverReadsOrCarvesPastItsEnd) {
  const std::vector<uint8_t> bytes = {0x05, 'a', 'b', 0x01, 0x02};
  ByteReader reader = readerOf(bytes, 100);
  std::string_view name;
  EXPECT_FALSE(reader.readName(name)) << "a name of 5 bytes with 4 left";
  reader = readerOf(bytes, 100);
  EXPECT_FALSE(reader.skip(6));
  std::optional<ByteReader> sub;
  EXPECT_FALSE(reader.sub(6, sub));
  ASSERT_TRUE(reader.sub(3, sub));
  EXPECT_EQ(sub->offset(), 100u) << "offsets are the module's";
  EXPECT_EQ(sub->remaining(), 3u);
  EXPECT_EQ(reader.offset(), 103u);
  uint8_t byte = 0;
  EXPECT_TRUE(reader.readByte(byte));
  EXPECT_TRUE(reader.readByte(byte));
  EXPECT_FALSE(reader.readByte(byte));
}

TEST(ByteReader, CountsAreCappedByTheBytesLeftAndTheLimit) {
  const std::vector<uint8_t> bytes = {0x03, 0x00, 0x00};  // three entries in two bytes
  ByteReader reader = readerOf(bytes, 20);
  uint32_t count = 0;
  auto status = readCount(reader, 1000, "global count", count);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("global count 3 at offset 21"));
  reader = readerOf(bytes);
  EXPECT_FALSE(readCount(reader, 2, "type count", count).isOk());
}

TEST(ByteReader, MessagesQuoteModuleNamesSafely) {
  EXPECT_EQ(printable("env\n\x01x"), "env??x");
  EXPECT_EQ(printable(std::string(100, 'a')), std::string(kMaxNameInMessage, 'a') + "...");
  const std::vector<uint8_t> bytes = {0x01};
  ByteReader reader = readerOf(bytes, 8);
  EXPECT_EQ(expectEnd(reader, "the type section").message(),
            "malformed module: end of the type section is truncated or invalid at offset 8");
}

}  // namespace
}  // namespace wop::wasm::binary
