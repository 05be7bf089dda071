#include "snapshot/operator_snapshot.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "kube/temp_dir.h"
#include "snapshot/anonymous_memory.h"
#include "snapshot/dirty_pages.h"

namespace wop::snapshot {
namespace {

namespace fs = std::filesystem;
using common::StatusCode;
using snapshot::testing::AnonymousMemory;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using wop::testing::TempDir;

constexpr uint64_t kPages = 64;
constexpr const char* kIdentity = "sha256:module/engine:1";

const std::vector<GlobalValue> kGlobals = {{"__stack_pointer", GlobalKind::kI32, 0x8000},
                                           {"ticks", GlobalKind::kI64, 123456789}};

bool sameBytes(const AnonymousMemory& a, const AnonymousMemory& b, uint64_t bytes) {
  return std::memcmp(a.data(), b.data(), bytes) == 0;
}

std::set<std::string> filesIn(const std::string& directory) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory))
    names.insert(entry.path().filename().string());
  return names;
}

uint64_t allocatedBytes(const std::string& path) {
  struct stat info{};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return static_cast<uint64_t>(info.st_blocks) * 512;
}

LayerHeader headerOf(const std::string& path) {
  std::vector<uint8_t> bytes(kPageBytes * 4);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  const ssize_t got = ::pread(fd, bytes.data(), bytes.size(), 0);
  ::close(fd);
  bytes.resize(got > 0 ? static_cast<size_t>(got) : 0);
  auto header = parseLayerHeader(bytes);
  EXPECT_TRUE(header.isOk()) << header.status().toString();
  return header.isOk() ? *header : LayerHeader{};
}

class OperatorSnapshotTest : public ::testing::Test {
 protected:
  std::string dir() const { return temp_.file("op"); }
  std::string layerPath(uint64_t sequence) const {
    return dir() + "/" + std::to_string(sequence) + ".snap";
  }

  // A source memory with a few recognisable pages; the rest stays zero.
  void fillSource(const AnonymousMemory& memory) const {
    for (uint64_t page : {0, 1, 2, 5, 9, 40, 63}) memory.fillPage(page, 1);
  }

  // Opens the chain and maps it over target; fails the test on any error.
  void restoreInto(const AnonymousMemory& target, RestorePlan* keep = nullptr) const {
    auto plan = snapshot_.open();
    ASSERT_TRUE(plan.isOk()) << plan.status().toString();
    ASSERT_LE(plan->memoryBytes(), target.size());
    auto mapped = snapshot_.map(*plan, target.data());
    ASSERT_TRUE(mapped.isOk()) << mapped.toString();
    if (keep != nullptr) *keep = std::move(*plan);
  }

  TempDir temp_;
  OperatorSnapshot snapshot_{dir(), kIdentity};
};

TEST_F(OperatorSnapshotTest, AFullSaveRestoresTheSameBytesAndGlobals) {
  AnonymousMemory source(kPages);
  ASSERT_TRUE(source.valid());
  fillSource(source);

  auto saved = snapshot_.save(source.span(), kGlobals, false);

  ASSERT_TRUE(saved.isOk()) << saved.status().toString();
  EXPECT_TRUE(saved->full);
  EXPECT_EQ(saved->layers, 1u);
  EXPECT_EQ(saved->bytesWritten, 7 * kPageBytes);  // zero pages are not written
  auto plan = snapshot_.open();
  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
  EXPECT_EQ(plan->memoryBytes(), source.size());
  EXPECT_EQ(plan->globals(), kGlobals);
  AnonymousMemory restored(kPages);
  ASSERT_TRUE(snapshot_.map(*plan, restored.data()).isOk());
  EXPECT_TRUE(sameBytes(restored, source, source.size()));
  EXPECT_TRUE(OperatorSnapshot::verifyData(*plan).isOk());
}

TEST_F(OperatorSnapshotTest, ZeroPagesAreHolesInTheLayerFile) {
  AnonymousMemory source(1024);  // 4 MiB, 7 pages non-zero
  fillSource(source);

  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());

  EXPECT_EQ(fs::file_size(layerPath(1)), headerOf(layerPath(1)).dataOffset + source.size());
  EXPECT_LT(allocatedBytes(layerPath(1)), source.size() / 16);
}

TEST_F(OperatorSnapshotTest, ASaveOfMisalignedMemoryIsRefused) {
  AnonymousMemory source(4);
  auto saved = snapshot_.save(std::span<uint8_t>(source.data() + 1, kPageBytes), {}, false);

  ASSERT_FALSE(saved.isOk());
  EXPECT_EQ(saved.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OperatorSnapshotTest, OpenWithoutASaveIsNotFound) {
  EXPECT_EQ(snapshot_.open().status().code(), StatusCode::kNotFound);
}

TEST_F(OperatorSnapshotTest, ASaveOfARestoredMemoryWritesOnlyTheDirtyPagesAsADelta) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  // The guest grew by 32 pages after the restore: a bigger region, the chain mapped at its start.
  AnonymousMemory guest(kPages + 32);
  restoreInto(guest);

  guest.fillPage(2, 7);           // changed
  guest.zeroPage(5);              // was non-zero, now zero: must come back zero
  guest.fillPage(20, 7);          // was zero, now not
  guest.fillPage(kPages + 6, 7);  // beyond the old size
  const std::vector<GlobalValue> later = {{"__stack_pointer", GlobalKind::kI32, 0x7000}};
  auto saved = snapshot_.save(guest.span(), later, true);

  ASSERT_TRUE(saved.isOk()) << saved.status().toString();
  EXPECT_FALSE(saved->full);
  EXPECT_EQ(saved->layers, 2u);
  // Dirty pages 2, 5 and 20 are within kMergeGapPages of each other: one run, which also
  // carries the clean, non-zero page 9; the zeroed page 5 is a hole. Page kPages + 6 is far.
  static_assert(kMergeGapPages >= 14 && kPages + 6 - 21 > kMergeGapPages);
  EXPECT_EQ(saved->bytesWritten, 4 * kPageBytes);
  const auto delta = headerOf(layerPath(2));
  EXPECT_EQ(delta.parentSequence, 1u);
  EXPECT_THAT(delta.runs, ElementsAre(PageRun{2, 19}, PageRun{kPages + 6, 1}));

  AnonymousMemory restored(kPages + 32);
  RestorePlan plan;
  restoreInto(restored, &plan);
  EXPECT_EQ(plan.memoryBytes(), guest.size());
  EXPECT_EQ(plan.globals(), later);
  EXPECT_TRUE(sameBytes(restored, guest, guest.size()));
  EXPECT_TRUE(OperatorSnapshot::verifyData(plan).isOk());
}

TEST_F(OperatorSnapshotTest, ASaveOfMemoryNotFromTheChainIsFull) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());

  auto saved = snapshot_.save(source.span(), kGlobals, false);

  ASSERT_TRUE(saved.isOk());
  EXPECT_TRUE(saved->full);
  EXPECT_EQ(saved->layers, 1u);
  EXPECT_EQ(filesIn(dir()), (std::set<std::string>{"1.spare", "2.snap"}));
}

ino_t inodeOf(const std::string& path) {
  struct stat info{};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

TEST_F(OperatorSnapshotTest, ASpareNobodyMapsIsRewrittenAsTheNextLayerInsteadOfANewFile) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  const ino_t spare = inodeOf(dir() + "/1.spare");
  ASSERT_NE(spare, 0u);

  source.fillPage(3, 9);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());

  EXPECT_EQ(filesIn(dir()), (std::set<std::string>{"2.spare", "3.snap"}));
  EXPECT_EQ(inodeOf(layerPath(3)), spare);
  AnonymousMemory restored(kPages);
  RestorePlan plan;
  restoreInto(restored, &plan);
  EXPECT_TRUE(sameBytes(restored, source, source.size()));
  EXPECT_TRUE(OperatorSnapshot::verifyData(plan).isOk());
}

// A spare is rewritten in place, not truncated: whatever it held where the new layer has zero
// pages must read back as zero, through the map and through the data check.
TEST_F(OperatorSnapshotTest, ASpareRewrittenInPlaceShowsNoneOfItsOldPages) {
  AnonymousMemory old(kPages);
  for (uint64_t page = 0; page < kPages; ++page) old.fillPage(page, 3);
  ASSERT_TRUE(snapshot_.save(old.span(), kGlobals, false).isOk());
  ASSERT_TRUE(snapshot_.save(old.span(), kGlobals, false).isOk());
  const ino_t spare = inodeOf(dir() + "/1.spare");

  AnonymousMemory source(2 * kPages);  // grown meanwhile: the file's layout moves too
  fillSource(source);
  source.fillPage(100, 4);
  auto saved = snapshot_.save(source.span(), kGlobals, false);

  ASSERT_TRUE(saved.isOk()) << saved.status().toString();
  ASSERT_EQ(inodeOf(layerPath(3)), spare);
  EXPECT_EQ(fs::file_size(layerPath(3)), headerOf(layerPath(3)).dataOffset + source.size());
  AnonymousMemory restored(2 * kPages);
  for (uint64_t page = 0; page < 2 * kPages; ++page) restored.fillPage(page, 7);
  RestorePlan plan;
  restoreInto(restored, &plan);
  EXPECT_TRUE(sameBytes(restored, source, source.size()));
  EXPECT_TRUE(OperatorSnapshot::verifyData(plan, VerifyScope::kAll).isOk());
}

TEST_F(OperatorSnapshotTest, ADeltaWrittenIntoASpareKeepsTheZeroPagesItDirtied) {
  AnonymousMemory source(kPages);
  for (uint64_t page = 0; page < kPages; ++page) source.fillPage(page, 3);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());  // 1 becomes a spare
  AnonymousMemory guest(kPages);
  RestorePlan plan;
  restoreInto(guest, &plan);
  plan = RestorePlan();

  guest.zeroPage(5);  // written, to zero: a delta page the spare has data for
  guest.fillPage(6, 8);
  auto saved = snapshot_.save(guest.span(), kGlobals, true);

  ASSERT_TRUE(saved.isOk()) << saved.status().toString();
  EXPECT_FALSE(saved->full);
  EXPECT_FALSE(fs::exists(dir() + "/1.spare"));
  AnonymousMemory restored(kPages);
  restoreInto(restored, &plan);
  EXPECT_TRUE(sameBytes(restored, guest, guest.size()));
  EXPECT_TRUE(OperatorSnapshot::verifyData(plan, VerifyScope::kAll).isOk());
}

// The data a file holds past offset `from`, by SEEK_DATA / SEEK_HOLE: what is on disk (and may
// sit in the page cache), holes left out.
uint64_t dataBytesFrom(const std::string& path, uint64_t from) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ~uint64_t{0};
  uint64_t bytes = 0;
  off_t at = static_cast<off_t>(from);
  for (;;) {
    const off_t data = ::lseek(fd, at, SEEK_DATA);
    if (data < 0) break;
    const off_t hole = ::lseek(fd, data, SEEK_HOLE);
    bytes += static_cast<uint64_t>(hole - data);
    at = hole;
  }
  ::close(fd);
  return bytes;
}

// A full layer of every page, its spare then rewritten as a one-page delta: the old pages are
// freed (holes), not left on disk and in the page cache outside the delta's runs.
TEST_F(OperatorSnapshotTest, ASpareRewrittenAsASmallDeltaKeepsNoneOfItsOldData) {
  AnonymousMemory source(kPages);
  for (uint64_t page = 0; page < kPages; ++page) source.fillPage(page, 3);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());  // 1 becomes a spare
  const ino_t spare = inodeOf(dir() + "/1.spare");
  AnonymousMemory guest(kPages);
  RestorePlan plan;
  restoreInto(guest, &plan);
  plan = RestorePlan();

  guest.fillPage(6, 8);
  auto saved = snapshot_.save(guest.span(), kGlobals, true);

  ASSERT_TRUE(saved.isOk()) << saved.status().toString();
  EXPECT_FALSE(saved->full);
  ASSERT_EQ(inodeOf(layerPath(3)), spare);
  EXPECT_EQ(dataBytesFrom(layerPath(3), headerOf(layerPath(3)).dataOffset), 4096u)
      << "only the delta's page is data";
  AnonymousMemory restored(kPages);
  restoreInto(restored, &plan);
  EXPECT_TRUE(sameBytes(restored, guest, guest.size()));
  EXPECT_TRUE(OperatorSnapshot::verifyData(plan, VerifyScope::kAll).isOk());
}

TEST_F(OperatorSnapshotTest, ASpareALivePlanMayMapIsNotRewrittenUntilItsLeaseIsGone) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  AnonymousMemory guest(kPages);
  RestorePlan plan;
  restoreInto(guest, &plan);
  auto lease = plan.lease();
  plan = RestorePlan();  // the lease alone keeps layer 1 from reuse, as a restored guest holds it

  // Two more full saves of other bytes: layer 1 becomes a spare but must not be rewritten.
  AnonymousMemory other(kPages);
  other.fillPage(0, 5);
  ASSERT_TRUE(snapshot_.save(other.span(), kGlobals, false).isOk());
  ASSERT_TRUE(snapshot_.save(other.span(), kGlobals, false).isOk());
  EXPECT_TRUE(fs::exists(dir() + "/1.spare"));
  EXPECT_TRUE(sameBytes(guest, source, source.size())) << "a mapped layer changed under the guest";

  lease.reset();
  ASSERT_TRUE(snapshot_.save(other.span(), kGlobals, false).isOk());
  EXPECT_FALSE(fs::exists(dir() + "/1.spare"));  // rewritten: the oldest free spare goes first
}

TEST_F(OperatorSnapshotTest, AfterMaxLayersTheNextSaveIsFullAndOldLayersBecomeSpares) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  std::vector<std::unique_ptr<AnonymousMemory>> guests;  // kept mapped, as a live guest would be
  std::vector<RestorePlan> plans;                        // and their plans with them
  for (size_t layer = 2; layer <= kMaxLayers + 1; ++layer) {
    guests.push_back(std::make_unique<AnonymousMemory>(kPages));
    const auto& guest = *guests.back();
    plans.emplace_back();
    restoreInto(guest, &plans.back());
    guest.fillPage(layer, static_cast<uint8_t>(layer));

    auto saved = snapshot_.save(guest.span(), kGlobals, true);

    ASSERT_TRUE(saved.isOk()) << saved.status().toString();
    if (layer <= kMaxLayers) {
      EXPECT_FALSE(saved->full) << "layer " << layer;
      EXPECT_EQ(saved->layers, layer);
    } else {
      EXPECT_TRUE(saved->full);
      EXPECT_EQ(saved->layers, 1u);
      // The source's 7 pages and one per layer since, some of them the same pages.
      std::set<uint64_t> pages = {0, 1, 2, 5, 9, 40, 63};
      for (uint64_t page = 2; page <= kMaxLayers + 1; ++page) pages.insert(page);
      EXPECT_EQ(saved->bytesWritten, pages.size() * kPageBytes);
    }
  }
  std::set<std::string> expected = {std::to_string(kMaxLayers + 1) + ".snap"};
  for (size_t layer = 1; layer <= kMaxLayers; ++layer)
    expected.insert(std::to_string(layer) + ".spare");
  static_assert(kMaxSpares >= kMaxLayers);
  EXPECT_EQ(filesIn(dir()), expected);
  AnonymousMemory restored(kPages);
  restoreInto(restored);
  EXPECT_TRUE(sameBytes(restored, *guests.back(), kPages * kPageBytes));
}

TEST_F(OperatorSnapshotTest, AMissingLayerIsReported) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  fs::remove(layerPath(1));

  auto plan = snapshot_.open();

  ASSERT_FALSE(plan.isOk());
  EXPECT_EQ(plan.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(plan.status().message(), HasSubstr("missing"));
  EXPECT_THAT(plan.status().message(), HasSubstr("1.snap"));
}

TEST_F(OperatorSnapshotTest, ATruncatedLayerIsReported) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  fs::resize_file(layerPath(1), fs::file_size(layerPath(1)) - kPageBytes);

  auto plan = snapshot_.open();

  ASSERT_FALSE(plan.isOk());
  EXPECT_EQ(plan.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(plan.status().message(), HasSubstr("truncated"));
}

TEST_F(OperatorSnapshotTest, ALayerTruncatedIntoItsHeaderIsReported) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  fs::resize_file(layerPath(1), 30);

  auto plan = snapshot_.open();

  ASSERT_FALSE(plan.isOk());
  EXPECT_EQ(plan.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(plan.status().message(), HasSubstr("1.snap"));
}

TEST_F(OperatorSnapshotTest, ALayerFromAnotherModuleIsReported) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  OperatorSnapshot other(temp_.file("other"), "other");
  ASSERT_TRUE(other.save(source.span(), kGlobals, false).isOk());
  fs::copy_file(temp_.file("other") + "/1.snap", layerPath(1),
                fs::copy_options::overwrite_existing);

  auto plan = snapshot_.open();

  ASSERT_FALSE(plan.isOk());
  EXPECT_EQ(plan.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(plan.status().message(), HasSubstr("another module"));
}

TEST_F(OperatorSnapshotTest, AReplacedLayerOfTheSameModuleIsReported) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  OperatorSnapshot twin(temp_.file("twin"), kIdentity);
  ASSERT_TRUE(twin.save(source.span(), {}, false).isOk());  // other globals: another checksum
  fs::copy_file(temp_.file("twin") + "/1.snap", layerPath(1), fs::copy_options::overwrite_existing);

  auto plan = snapshot_.open();

  ASSERT_FALSE(plan.isOk());
  EXPECT_THAT(plan.status().message(), HasSubstr("not the layer that was written"));
}

TEST_F(OperatorSnapshotTest, VerifyDataFindsAFlippedDataByte) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  const uint64_t at =
      headerOf(layerPath(1)).dataOffset + 9 * kPageBytes + 100;  // page 9 was written
  {
    const int fd = ::open(layerPath(1).c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    uint8_t byte = 0;
    ASSERT_EQ(::pread(fd, &byte, 1, static_cast<off_t>(at)), 1);
    byte ^= 0x10;
    ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(at)), 1);
    ::close(fd);
  }

  auto plan = snapshot_.open();  // the header is intact: open does not read the data

  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
  auto verified = OperatorSnapshot::verifyData(*plan);
  ASSERT_FALSE(verified.isOk());
  EXPECT_EQ(verified.code(), StatusCode::kDataLoss);
  EXPECT_THAT(verified.message(), HasSubstr("data checksum"));
}

void flipByte(const std::string& path, uint64_t at) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  uint8_t byte = 0;
  ASSERT_EQ(::pread(fd, &byte, 1, static_cast<off_t>(at)), 1);
  byte ^= 0x10;
  ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(at)), 1);
  ::close(fd);
}

TEST_F(OperatorSnapshotTest, ASmallLayerIsCheckedBeforeTheGuestRunsAndTheErrorNamesThePages) {
  AnonymousMemory source(kPages);
  fillSource(source);  // 7 pages of data: well under kVerifyBeforeRunBytes
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  flipByte(layerPath(1), headerOf(layerPath(1)).dataOffset + 40 * kPageBytes + 5);
  auto plan = snapshot_.open();
  ASSERT_TRUE(plan.isOk());

  auto before = OperatorSnapshot::verifyData(*plan, VerifyScope::kBeforeRun);
  auto after = OperatorSnapshot::verifyData(*plan, VerifyScope::kAfterRun);

  ASSERT_FALSE(before.isOk());
  EXPECT_EQ(before.code(), StatusCode::kDataLoss);
  // Page 40 is in the third block of the one run (pages 32 to 47).
  static_assert(kChecksumBlockPages == 16);
  EXPECT_THAT(before.message(), HasSubstr("1.snap has a bad data checksum (pages 32 to 47)"));
  EXPECT_TRUE(after.isOk()) << "checked already, not again";
}

// Past the file time granularity the check allows for (kFileTimeGranularity, 20 ms).
void waitPastFileTimeGranularity() { ::usleep(30'000); }

TEST_F(OperatorSnapshotTest, ALayerFoundGoodIsNotReadAgainWhileItsFileIsUnchanged) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  waitPastFileTimeGranularity();

  auto first = snapshot_.open();
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(first->layersKnownGood(), 0u);
  ASSERT_TRUE(OperatorSnapshot::verifyData(*first).isOk());

  auto second = snapshot_.open();
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_EQ(second->layersKnownGood(), 1u);
  EXPECT_TRUE(OperatorSnapshot::verifyData(*second).isOk());
}

TEST_F(OperatorSnapshotTest, ALayerWrittenToAfterItWasFoundGoodIsCheckedAgain) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  waitPastFileTimeGranularity();
  {
    auto plan = snapshot_.open();
    ASSERT_TRUE(plan.isOk());
    ASSERT_TRUE(OperatorSnapshot::verifyData(*plan).isOk());
  }

  flipByte(layerPath(1), headerOf(layerPath(1)).dataOffset + 9 * kPageBytes + 100);

  auto plan = snapshot_.open();
  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
  EXPECT_EQ(plan->layersKnownGood(), 0u);
  auto verified = OperatorSnapshot::verifyData(*plan);
  EXPECT_EQ(verified.code(), StatusCode::kDataLoss);
  EXPECT_THAT(verified.message(), HasSubstr("pages 0 to 15"));
}

TEST_F(OperatorSnapshotTest, DataWrittenIntoTheHolesOfAZeroBlockIsFound) {
  AnonymousMemory source(kPages);
  fillSource(source);  // pages 48 to 63 hold only page 63; pages 16 to 31 none: a zero block
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  const int fd = ::open(layerPath(1).c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const uint8_t byte = 0xa5;
  ASSERT_EQ(::pwrite(fd, &byte, 1,
                     static_cast<off_t>(headerOf(layerPath(1)).dataOffset + 20 * kPageBytes + 3)),
            1);
  ::close(fd);
  auto plan = snapshot_.open();
  ASSERT_TRUE(plan.isOk());

  auto verified = OperatorSnapshot::verifyData(*plan, VerifyScope::kBeforeRun);

  EXPECT_THAT(verified.message(), HasSubstr("1.snap has a bad data checksum (pages 16 to 31)"));
}

TEST_F(OperatorSnapshotTest, ABigLayerIsCheckedAfterTheGuestRunsAndASmallDeltaOnItBefore) {
  const uint64_t pages = kVerifyBeforeRunBytes / kPageBytes + 64;
  AnonymousMemory source(pages);
  for (uint64_t page = 0; page < pages; ++page) source.fillPage(page, 3);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  AnonymousMemory guest(pages);
  restoreInto(guest);
  guest.fillPage(7, 9);
  ASSERT_TRUE(snapshot_.save(guest.span(), kGlobals, true).isOk());  // a one-page delta
  flipByte(layerPath(1), headerOf(layerPath(1)).dataOffset + 100 * kPageBytes);
  flipByte(layerPath(2), headerOf(layerPath(2)).dataOffset + 7 * kPageBytes + 1);
  auto plan = snapshot_.open();
  ASSERT_TRUE(plan.isOk());

  auto before = OperatorSnapshot::verifyData(*plan, VerifyScope::kBeforeRun);
  auto after = OperatorSnapshot::verifyData(*plan, VerifyScope::kAfterRun);

  EXPECT_THAT(before.message(), HasSubstr("2.snap has a bad data checksum (pages 7 to 7)"));
  EXPECT_THAT(after.message(), HasSubstr("1.snap has a bad data checksum (pages 96 to 111)"));
}

// What checking on the restore path costs, per MiB of layer data (the pages come from the page
// cache, as they do on a restore soon after the swap-out). Printed for docs/swap.md.
TEST_F(OperatorSnapshotTest, CheckingBeforeTheGuestRunsCostsAboutAMillisecondFor4MiB) {
  for (uint64_t mib : {1, 4}) {
    const uint64_t pages = mib * (1 << 20) / kPageBytes;
    AnonymousMemory source(pages * 4);  // a quarter of the memory holds data
    for (uint64_t page = 0; page < pages; ++page) source.fillPage(page, 1);
    OperatorSnapshot snapshot(temp_.file("cost-" + std::to_string(mib)), kIdentity);
    ASSERT_TRUE(snapshot.save(source.span(), kGlobals, false).isOk());
    auto plan = snapshot.open();
    ASSERT_TRUE(plan.isOk());
    ASSERT_TRUE(OperatorSnapshot::verifyData(*plan).isOk());  // warm the page cache
    constexpr int kRounds = 20;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(OperatorSnapshot::verifyData(*plan).isOk());
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count() /
        kRounds;
    std::printf("[ cost     ] checking %llu MiB of layer data (%llu MiB memory): %.3f ms\n",
                static_cast<unsigned long long>(mib), static_cast<unsigned long long>(mib * 4), ms);
    RecordProperty("verify_ms_" + std::to_string(mib) + "mib", std::to_string(ms));
  }
}

TEST_F(OperatorSnapshotTest, ALayerReplacedByASymbolicLinkIsNotFollowed) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  fs::rename(layerPath(1), temp_.file("elsewhere.snap"));
  fs::create_symlink(temp_.file("elsewhere.snap"), layerPath(1));

  auto plan = snapshot_.open();

  ASSERT_FALSE(plan.isOk());
  EXPECT_THAT(plan.status().message(), HasSubstr("1.snap is missing"));
}

TEST_F(OperatorSnapshotTest, AFailedSaveLeavesThePreviousChainUsable) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  // The next layer cannot be renamed into place: its name is taken by a non-empty folder.
  fs::create_directories(layerPath(2) + "/blocker");
  AnonymousMemory changed(kPages);
  changed.fillPage(3, 9);

  auto saved = snapshot_.save(changed.span(), {}, false);

  ASSERT_FALSE(saved.isOk());
  EXPECT_THAT(saved.status().message(), HasSubstr("2.snap"));
  EXPECT_FALSE(fs::exists(layerPath(2) + ".tmp"));
  EXPECT_EQ(snapshot_.layers(), 1u);
  AnonymousMemory restored(kPages);
  RestorePlan plan;
  restoreInto(restored, &plan);
  EXPECT_TRUE(sameBytes(restored, source, source.size()));
  EXPECT_EQ(plan.globals(), kGlobals);
}

// A tmpfs of 128 KiB, unmounted (lazily) when the test ends.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(std::string path) : path_(std::move(path)) {
    fs::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=128k,mode=0700") == 0;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST_F(OperatorSnapshotTest, AFullDiskFailsTheSaveAsExhaustedAndKeepsTheChain) {
  SmallTmpfs disk(temp_.file("small"));
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs: " << std::strerror(errno);
  OperatorSnapshot small(temp_.file("small") + "/op", kIdentity);
  AnonymousMemory few(kPages);
  few.fillPage(1, 1);
  few.fillPage(2, 1);
  ASSERT_TRUE(small.save(few.span(), kGlobals, false).isOk());
  AnonymousMemory many(kPages);
  for (uint64_t page = 0; page < kPages; ++page) many.fillPage(page, 2);

  auto saved = small.save(many.span(), kGlobals, false);

  ASSERT_FALSE(saved.isOk());
  EXPECT_EQ(saved.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(filesIn(temp_.file("small") + "/op"), std::set<std::string>{"1.snap"});
  auto plan = small.open();
  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
  EXPECT_TRUE(OperatorSnapshot::verifyData(*plan).isOk());
  AnonymousMemory restored(kPages);
  ASSERT_TRUE(small.map(*plan, restored.data()).isOk());
  // Only the written pages are read back: touching a hole of a tmpfs file allocates a page
  // for it, and on this full tmpfs that fault is a SIGBUS.
  EXPECT_EQ(std::memcmp(restored.page(1), few.page(1), 2 * kPageBytes), 0);
}

TEST_F(OperatorSnapshotTest, ASaveIntoAFolderUnderARegularFileFails) {
  temp_.write("plain", "not a folder");
  OperatorSnapshot broken(temp_.file("plain") + "/op", kIdentity);
  AnonymousMemory source(kPages);
  fillSource(source);

  auto saved = broken.save(source.span(), kGlobals, false);

  ASSERT_FALSE(saved.isOk());
  EXPECT_THAT(saved.status().message(), HasSubstr("plain/op"));
  EXPECT_TRUE(broken.empty());
  EXPECT_EQ(broken.open().status().code(), StatusCode::kNotFound);
}

TEST_F(OperatorSnapshotTest, DiscardRemovesTheFilesAndTheNextSaveIsFull) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  AnonymousMemory guest(kPages);
  restoreInto(guest);

  snapshot_.discard();
  auto saved = snapshot_.save(guest.span(), kGlobals, true);

  ASSERT_TRUE(saved.isOk());
  EXPECT_TRUE(saved->full);
  EXPECT_EQ(saved->layers, 1u);
}

TEST_F(OperatorSnapshotTest, OnlyThePagesWrittenAfterAMapAreDirty) {
  AnonymousMemory source(kPages);
  fillSource(source);
  ASSERT_TRUE(snapshot_.save(source.span(), kGlobals, false).isOk());
  AnonymousMemory guest(kPages);
  restoreInto(guest);
  EXPECT_TRUE(sameBytes(guest, source, source.size()));  // reads every page

  guest.page(9)[0] ^= 1;
  guest.page(30)[0] = 1;
  guest.page(31)[1] = 1;
  auto dirty = privatelyWrittenPages(guest.data(), guest.size());

  ASSERT_TRUE(dirty.isOk()) << dirty.status().toString();
  EXPECT_THAT(*dirty, ElementsAre(PageRun{9, 1}, PageRun{30, 2}));
}

TEST(OperatorSnapshotFolderTest, ARemovedHostFolderIsMadeAgainAndSaidOnce) {
  TempDir temp;
  const std::string base = temp.file("snapshots");
  const std::string host = base + "/host-1";
  ASSERT_TRUE(prepareSnapshotDirectory(base, host).isOk());
  OperatorSnapshot snapshot(host + "/op", kIdentity);
  AnonymousMemory source(kPages);
  source.fillPage(1, 1);
  ASSERT_TRUE(snapshot.save(source.span(), kGlobals, false).isOk());

  fs::remove_all(host);
  auto again = snapshot.save(source.span(), kGlobals, false);
  auto next = snapshot.save(source.span(), kGlobals, false);
  fs::remove_all(base);
  auto afterBase = snapshot.save(source.span(), kGlobals, false);

  ASSERT_TRUE(again.isOk()) << again.status().toString();
  EXPECT_EQ(again->recreatedFolder, host);
  ASSERT_TRUE(next.isOk());
  EXPECT_EQ(next->recreatedFolder, "");
  ASSERT_TRUE(afterBase.isOk()) << afterBase.status().toString();
  EXPECT_EQ(afterBase->recreatedFolder, base);
  EXPECT_EQ(fs::status(base).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(host).permissions() & fs::perms::all, fs::perms::owner_all);
  auto plan = snapshot.open();
  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
}

TEST(OperatorSnapshotFolderTest, AHostFolderSomeoneElseMadeWritableIsNotUsed) {
  TempDir temp;
  const std::string base = temp.file("snapshots");
  const std::string host = base + "/host-1";
  ASSERT_TRUE(prepareSnapshotDirectory(base, host).isOk());
  OperatorSnapshot snapshot(host + "/op", kIdentity);
  AnonymousMemory source(kPages);
  source.fillPage(1, 1);
  fs::remove_all(host);
  ASSERT_EQ(::mkdir(host.c_str(), 0700), 0);
  fs::permissions(host, fs::perms::all);

  auto saved = snapshot.save(source.span(), kGlobals, false);

  ASSERT_FALSE(saved.isOk());
  EXPECT_THAT(saved.status().message(), HasSubstr("writable by other users (mode 0777)"));
  EXPECT_FALSE(fs::exists(host + "/op"));
}

// ---------------------------------------------------------------- prepareSnapshotDirectory

TEST(PrepareSnapshotDirectoryTest, RemovesFoldersOfDeadHostsAndKeepsLiveOnes) {
  if (::kill(999999, 0) == 0) GTEST_SKIP() << "pid 999999 is running here";
  TempDir temp;
  const std::string base = temp.file("snapshots");
  const std::string own = base + "/host-" + std::to_string(::getpid());
  const std::string live = base + "/host-" + std::to_string(::getppid());
  temp.write("snapshots/host-999999/op/1.snap", "old");
  temp.write("snapshots/host-" + std::to_string(::getppid()) + "/op/1.snap", "live");
  temp.write("snapshots/host-" + std::to_string(::getpid()) + "/op/1.snap", "left from before");
  temp.write("snapshots/notes", "not a host folder");
  fs::permissions(base, fs::perms::owner_all);

  auto prepared = prepareSnapshotDirectory(base, own);

  ASSERT_TRUE(prepared.isOk()) << prepared.toString();
  EXPECT_FALSE(fs::exists(base + "/host-999999"));
  EXPECT_TRUE(fs::exists(live + "/op/1.snap"));
  EXPECT_TRUE(fs::is_directory(own));
  EXPECT_TRUE(fs::is_empty(own));
  EXPECT_TRUE(fs::exists(base + "/notes"));
  EXPECT_EQ(fs::status(own).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST(PrepareSnapshotDirectoryTest, CreatesAMissingBase) {
  TempDir temp;
  const std::string base = temp.file("a/b/snapshots");
  const std::string own = base + "/host-" + std::to_string(::getpid());

  auto prepared = prepareSnapshotDirectory(base, own);

  ASSERT_TRUE(prepared.isOk()) << prepared.toString();
  EXPECT_TRUE(fs::is_directory(own));
}

TEST(PrepareSnapshotDirectoryTest, MakesAMissingBasePrivate) {
  TempDir temp;
  const std::string base = temp.file("fresh");

  ASSERT_TRUE(prepareSnapshotDirectory(base, base + "/host-1").isOk());

  EXPECT_EQ(fs::status(base).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST(PrepareSnapshotDirectoryTest, ASymbolicLinkIsRefusedAndItsTargetLeftAlone) {
  if (::kill(999999, 0) == 0) GTEST_SKIP() << "pid 999999 is running here";
  TempDir temp;
  temp.write("target/host-999999/op/1.snap", "another host's");
  fs::permissions(temp.file("target"), fs::perms::owner_all | fs::perms::group_read |
                                           fs::perms::group_exec | fs::perms::others_read |
                                           fs::perms::others_exec);
  fs::create_symlink(temp.file("target"), temp.file("link"));

  for (const std::string& base : {temp.file("link"), temp.file("link") + "/"}) {
    auto prepared = prepareSnapshotDirectory(base, temp.file("link") + "/host-1");

    ASSERT_FALSE(prepared.isOk()) << base;
    EXPECT_THAT(prepared.message(), HasSubstr("is a symbolic link"));
    EXPECT_EQ(prepared.message().find('\n'), std::string::npos) << "one line";
  }
  EXPECT_TRUE(fs::exists(temp.file("target/host-999999/op/1.snap")));
  EXPECT_EQ(fs::status(temp.file("target")).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                fs::perms::others_read | fs::perms::others_exec);
}

TEST(PrepareSnapshotDirectoryTest, AFolderOthersCanWriteToIsRefusedNotChmoded) {
  TempDir temp;
  const std::string base = temp.file("shared");
  ASSERT_EQ(::mkdir(base.c_str(), 0700), 0);
  for (const auto perms : {fs::perms::all | fs::perms::sticky_bit,  // like /tmp
                           fs::perms::owner_all | fs::perms::group_all}) {
    fs::permissions(base, perms);

    auto prepared = prepareSnapshotDirectory(base, base + "/host-1");

    ASSERT_FALSE(prepared.isOk());
    EXPECT_THAT(prepared.message(), HasSubstr("is writable by other users"));
    EXPECT_EQ(fs::status(base).permissions(), perms);
    EXPECT_FALSE(fs::exists(base + "/host-1"));
  }
}

TEST(PrepareSnapshotDirectoryTest, AFolderOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a folder to another user";
  TempDir temp;
  const std::string base = temp.file("theirs");
  ASSERT_EQ(::mkdir(base.c_str(), 0700), 0);
  ASSERT_EQ(::chown(base.c_str(), 65534, 65534), 0);

  auto prepared = prepareSnapshotDirectory(base, base + "/host-1");

  ASSERT_FALSE(prepared.isOk());
  EXPECT_THAT(prepared.message(), HasSubstr("is owned by uid 65534, not by this host's user"));
}

}  // namespace
}  // namespace wop::snapshot
