#include "wasm/section_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace wop::wasm::binary {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> module(std::vector<uint8_t> sections) {
  std::vector<uint8_t> bytes = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  bytes.insert(bytes.end(), sections.begin(), sections.end());
  return bytes;
}

// The ids of all sections, or the first error's message.
std::string walk(const std::vector<uint8_t>& bytes) {
  auto reader = SectionReader::open(bytes);
  if (!reader) return reader.status().message();
  std::string ids;
  while (true) {
    std::optional<Section> section;
    if (auto status = reader->next(section); !status.isOk()) return status.message();
    if (!section) return ids;
    ids += (ids.empty() ? "" : " ") + std::to_string(section->id);
  }
}

TEST(SectionReader, RefusesWhatIsNotACoreModule) {
  EXPECT_THAT(walk({}), HasSubstr("not a core WebAssembly module"));
  EXPECT_THAT(walk({0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00}), HasSubstr("not a core"));
  EXPECT_THAT(walk({0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00}), HasSubstr("not a core"))
      << "a component";
  EXPECT_EQ(walk(module({})), "") << "the empty module has no sections";
}

TEST(SectionReader, YieldsEachSectionWithItsBodyAndExtent) {
  // A type section of one [] -> [] type, a custom section "x", an export section of none.
  const auto bytes =
      module({0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x00, 0x03, 0x01, 'x', 0xaa, 0x07, 0x01, 0x00});
  auto reader = SectionReader::open(bytes);
  ASSERT_TRUE(reader);
  std::optional<Section> section;
  ASSERT_TRUE(reader->next(section).isOk());
  ASSERT_TRUE(section);
  EXPECT_EQ(section->id, kTypeSection);
  EXPECT_EQ(section->start, 8u);
  EXPECT_EQ(section->end, 14u);
  EXPECT_EQ(section->body.offset(), 10u);
  EXPECT_EQ(section->body.remaining(), 4u);
  ASSERT_TRUE(reader->next(section).isOk());
  EXPECT_EQ(section->id, kCustomSection);
  std::string_view name;
  ASSERT_TRUE(section->body.readName(name));
  EXPECT_EQ(name, "x");
  ASSERT_TRUE(reader->next(section).isOk());
  EXPECT_EQ(section->id, kExportSection);
  EXPECT_EQ(section->end, bytes.size());
  ASSERT_TRUE(reader->next(section).isOk());
  EXPECT_FALSE(section) << "after the last section";
}

TEST(SectionReader, RefusesASectionThatRunsPastTheEnd) {
  EXPECT_EQ(walk(module({0x01, 0x05, 0x00})),
            "malformed module: section header or size is truncated or invalid at offset 10");
  EXPECT_THAT(walk(module({0x01, 0x80})), HasSubstr("section header or size"))
      << "a truncated size";
  EXPECT_THAT(walk(module({0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})),
              HasSubstr("section header or size"))
      << "an over-long size";
  EXPECT_THAT(walk(module({0x01, 0xff, 0xff, 0xff, 0xff, 0x0f})),
              HasSubstr("section header or size"))
      << "a size of 4 GiB";
}

TEST(SectionReader, RefusesUnknownIdsAndTheWrongOrder) {
  EXPECT_THAT(walk(module({0x0e, 0x00})), HasSubstr("section id 14"));
  EXPECT_THAT(walk(module({0x07, 0x01, 0x00, 0x03, 0x01, 0x00})), HasSubstr("order of section 3"));
  EXPECT_THAT(walk(module({0x03, 0x01, 0x00, 0x03, 0x01, 0x00})), HasSubstr("order of section 3"))
      << "a repeated section";
}

TEST(SectionReader, TakesTheOrderOfTheSpecNotOfTheIds) {
  // Memory, tag, global; data count before code; custom sections anywhere.
  EXPECT_EQ(walk(module({0x05, 0x01, 0x00, 0x0d, 0x01, 0x00, 0x00, 0x01, 'c',  0x06, 0x01,
                         0x00, 0x0c, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x00, 0x01, 'c'})),
            "5 13 0 6 12 10 0");
}

}  // namespace
}  // namespace wop::wasm::binary
