#include "snapshot/layer_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace wop::snapshot {
namespace {

using ::testing::HasSubstr;

constexpr size_t kVersionAt = 8;
constexpr size_t kSizeAt = 12;
constexpr size_t kChecksumAt = 16;

LayerHeader sampleHeader() {
  LayerHeader header;
  header.sequence = 7;
  header.parentSequence = 6;
  header.parentChecksum = 0x1122334455667788;
  header.moduleIdentity = "sha256:abc/engine:1";
  header.memoryBytes = 16 * kPageBytes;
  header.globals = {{"__stack_pointer", GlobalKind::kI32, 0x10000},
                    {"counter", GlobalKind::kI64, 0xffffffffffffffff},
                    {"ratio", GlobalKind::kF32, 0x3f800000},
                    {"", GlobalKind::kF64, 0x3ff0000000000000}};
  header.runs = {{0, 2}, {5, 3}, {15, 1}};
  header.blockChecksums = {0xdeadbeefcafef00d, 0, 17};
  return header;
}

// Recomputes the header checksum, so a test can reach the checks behind it.
void reseal(std::vector<uint8_t>& bytes) {
  uint32_t size = 0;
  std::memcpy(&size, bytes.data() + kSizeAt, 4);
  std::memset(bytes.data() + kChecksumAt, 0, 8);
  const uint64_t checksum = XXH3_64bits(bytes.data(), size);
  std::memcpy(bytes.data() + kChecksumAt, &checksum, 8);
}

common::Status parseWithRuns(std::vector<PageRun> runs) {
  auto header = sampleHeader();
  header.runs = std::move(runs);
  header.blockChecksums.assign(blockCount(header.runs), 1);
  return parseLayerHeader(encodeLayerHeader(header)).status();
}

TEST(LayerFormatTest, EncodedHeaderParsesBackToTheSameFields) {
  auto header = sampleHeader();
  const auto bytes = encodeLayerHeader(header);

  auto parsed = parseLayerHeader(bytes);

  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_EQ(parsed->sequence, 7u);
  EXPECT_EQ(parsed->parentSequence, 6u);
  EXPECT_EQ(parsed->parentChecksum, header.parentChecksum);
  EXPECT_EQ(parsed->moduleIdentity, header.moduleIdentity);
  EXPECT_EQ(parsed->memoryBytes, header.memoryBytes);
  EXPECT_EQ(parsed->dataOffset, header.dataOffset);
  EXPECT_EQ(parsed->blockChecksums, header.blockChecksums);
  EXPECT_EQ(parsed->globals, header.globals);
  EXPECT_EQ(parsed->runs, header.runs);
  EXPECT_EQ(parsed->headerChecksum, header.headerChecksum);
}

TEST(LayerFormatTest, DataStartsOnThePageAfterTheHeader) {
  auto header = sampleHeader();
  const auto bytes = encodeLayerHeader(header);

  EXPECT_EQ(header.dataOffset % kPageBytes, 0u);
  EXPECT_GE(header.dataOffset, bytes.size());
  EXPECT_LT(header.dataOffset - bytes.size(), kPageBytes);
}

TEST(LayerFormatTest, AnEmptyLayerRoundTrips) {
  LayerHeader header;
  auto parsed = parseLayerHeader(encodeLayerHeader(header));

  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_TRUE(parsed->globals.empty());
  EXPECT_TRUE(parsed->runs.empty());
}

TEST(LayerFormatTest, AFlippedByteAnywhereInTheHeaderIsRefused) {
  auto header = sampleHeader();
  const auto bytes = encodeLayerHeader(header);

  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      auto damaged = bytes;
      damaged[i] ^= flip;
      auto parsed = parseLayerHeader(damaged);
      EXPECT_FALSE(parsed.isOk()) << "byte " << i << " ^ " << int{flip} << " went unnoticed";
      if (!parsed.isOk()) EXPECT_EQ(parsed.status().code(), common::StatusCode::kDataLoss);
    }
  }
}

TEST(LayerFormatTest, AFlippedFieldByteIsAChecksumMismatch) {
  auto header = sampleHeader();
  auto bytes = encodeLayerHeader(header);
  bytes[kChecksumAt + 8] ^= 1;  // the sequence

  auto parsed = parseLayerHeader(bytes);

  ASSERT_FALSE(parsed.isOk());
  EXPECT_THAT(parsed.status().message(), HasSubstr("checksum"));
}

TEST(LayerFormatTest, AnotherFormatVersionIsRefusedByName) {
  auto header = sampleHeader();
  auto bytes = encodeLayerHeader(header);
  for (uint8_t version : {1, 3}) {  // 1: one data checksum per layer, no block checksums
    bytes[kVersionAt] = version;
    reseal(bytes);

    auto parsed = parseLayerHeader(bytes);

    ASSERT_FALSE(parsed.isOk());
    EXPECT_EQ(parsed.status().code(), common::StatusCode::kDataLoss);
    EXPECT_THAT(parsed.status().message(), HasSubstr("version " + std::to_string(version)));
    EXPECT_THAT(parsed.status().message(), HasSubstr("reads version 2"));
  }
}

TEST(LayerFormatTest, RunsMustBeSortedDisjointNonEmptyAndInsideMemory) {
  EXPECT_TRUE(parseWithRuns({{0, 16}}).isOk());
  EXPECT_TRUE(parseWithRuns({{0, 1}, {1, 1}, {15, 1}}).isOk());

  EXPECT_THAT(parseWithRuns({{14, 3}}).message(), HasSubstr("outside memory"));
  EXPECT_THAT(parseWithRuns({{16, 1}}).message(), HasSubstr("outside memory"));
  EXPECT_THAT(parseWithRuns({{0, 17}}).message(), HasSubstr("outside memory"));
  EXPECT_FALSE(parseWithRuns({{0, 4}, {3, 2}}).isOk()) << "overlapping";
  EXPECT_FALSE(parseWithRuns({{5, 1}, {2, 1}}).isOk()) << "unsorted";
  EXPECT_FALSE(parseWithRuns({{5, 1}, {5, 1}}).isOk()) << "repeated";
  EXPECT_FALSE(parseWithRuns({{3, 0}}).isOk()) << "empty";
  const uint64_t huge = std::numeric_limits<uint64_t>::max();
  EXPECT_FALSE(parseWithRuns({{huge, 2}}).isOk()) << "wrapping first page";
  EXPECT_FALSE(parseWithRuns({{1, huge}}).isOk()) << "wrapping count";
}

TEST(LayerFormatTest, MemorySizeMustBeWholePages) {
  auto header = sampleHeader();
  header.memoryBytes = 16 * kPageBytes + 1;

  auto parsed = parseLayerHeader(encodeLayerHeader(header));

  ASSERT_FALSE(parsed.isOk());
  EXPECT_THAT(parsed.status().message(), HasSubstr("page aligned"));
}

TEST(LayerFormatTest, AnUnknownGlobalKindIsRefused) {
  auto header = sampleHeader();
  header.globals[1].kind = static_cast<GlobalKind>(4);

  auto parsed = parseLayerHeader(encodeLayerHeader(header));

  ASSERT_FALSE(parsed.isOk());
  EXPECT_THAT(parsed.status().message(), HasSubstr("global 1"));
}

TEST(LayerFormatTest, AnOverlongModuleIdentityIsRefused) {
  auto header = sampleHeader();
  header.moduleIdentity = std::string(100000, 'x');

  EXPECT_FALSE(parseLayerHeader(encodeLayerHeader(header)).isOk());
}

TEST(LayerFormatTest, EveryTruncationIsRefused) {
  auto header = sampleHeader();
  const auto bytes = encodeLayerHeader(header);

  for (size_t size = 0; size < bytes.size(); ++size) {
    auto parsed = parseLayerHeader(std::span<const uint8_t>(bytes.data(), size));
    EXPECT_FALSE(parsed.isOk()) << size << " of " << bytes.size() << " bytes";
  }
}

TEST(LayerFormatTest, AShorterHeaderLengthWithAValidChecksumIsTruncatedFields) {
  auto header = sampleHeader();
  auto bytes = encodeLayerHeader(header);
  const uint32_t shorter = 40;
  std::memcpy(bytes.data() + kSizeAt, &shorter, 4);
  reseal(bytes);

  auto parsed = parseLayerHeader(bytes);

  ASSERT_FALSE(parsed.isOk());
  EXPECT_THAT(parsed.status().message(), HasSubstr("truncated"));
}

TEST(LayerFormatTest, GarbageNeverCrashes) {
  std::mt19937_64 random(42);
  auto header = sampleHeader();
  const auto valid = encodeLayerHeader(header);
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> bytes;
    if (round % 2 == 0) {
      bytes.resize(random() % 600);
      for (auto& b : bytes) b = static_cast<uint8_t>(random());
      if (bytes.size() >= 8 && round % 4 == 0) std::memcpy(bytes.data(), valid.data(), 8);
    } else {
      // A valid header with a few bytes changed and the checksum made right again, so the
      // parser's field checks are what stands between the bytes and a crash.
      bytes = valid;
      for (int i = 0; i < 3; ++i)
        bytes[24 + random() % (bytes.size() - 24)] = static_cast<uint8_t>(random());
      reseal(bytes);
    }
    auto parsed = parseLayerHeader(bytes);
    if (parsed.isOk()) {
      uint64_t end = 0;
      for (const auto& run : parsed->runs) {
        EXPECT_GE(run.firstPage, end);
        EXPECT_GT(run.pageCount, 0u);
        end = run.firstPage + run.pageCount;
        EXPECT_LE(end, parsed->memoryBytes / kPageBytes);
      }
    }
  }
}

TEST(LayerFormatTest, RunsAreCutIntoBlocksFromTheirFirstPage) {
  const std::vector<PageRun> runs = {{3, 1}, {10, kChecksumBlockPages * 2 + 5}};

  EXPECT_EQ(blockCount(runs), 4u);
  EXPECT_EQ(blocksOf(runs), (std::vector<PageRun>{{3, 1},
                                                  {10, kChecksumBlockPages},
                                                  {10 + kChecksumBlockPages, kChecksumBlockPages},
                                                  {10 + 2 * kChecksumBlockPages, 5}}));
}

TEST(LayerFormatTest, ABlockCountOtherThanTheRunsDemandIsRefused) {
  for (size_t count : {2, 4}) {
    auto header = sampleHeader();  // 3 runs of at most 3 pages: 3 blocks
    header.blockChecksums.assign(count, 1);

    auto parsed = parseLayerHeader(encodeLayerHeader(header));

    ASSERT_FALSE(parsed.isOk()) << count;
    EXPECT_THAT(parsed.status().message(), HasSubstr("block count"));
  }
}

TEST(LayerFormatTest, BlockChecksumIsZeroOnlyForZeroBytesAndDependsOnPlaceAndContents) {
  std::vector<uint8_t> block(2 * kPageBytes, 0);
  EXPECT_EQ(blockChecksum(3, block.data(), 2), 0u);

  block[kPageBytes + 7] = 0x5a;  // in the second page
  const uint64_t first = blockChecksum(3, block.data(), 2);

  EXPECT_NE(first, 0u);
  EXPECT_EQ(blockChecksum(3, block.data(), 2), first);
  EXPECT_NE(blockChecksum(4, block.data(), 2), first) << "the same bytes elsewhere";
  block[100] ^= 1;
  EXPECT_NE(blockChecksum(3, block.data(), 2), first);
}

TEST(LayerFormatTest, ZeroPageDetectionSeesAnyNonZeroByte) {
  std::vector<uint8_t> page(kPageBytes, 0);
  EXPECT_TRUE(isZeroPage(page.data()));
  page[kPageBytes - 1] = 1;
  EXPECT_FALSE(isZeroPage(page.data()));
  page[kPageBytes - 1] = 0;
  page[0] = 0x80;
  EXPECT_FALSE(isZeroPage(page.data()));
}

}  // namespace
}  // namespace wop::snapshot
