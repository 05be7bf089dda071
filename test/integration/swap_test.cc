// Swapping idle operators to disk, against the real control plane: state survives many swap
// cycles, every kind of damaged snapshot is detected and costs nothing but a fresh start, a full
// disk leaves the operator resident, and a ring of swapping operators loses no change.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "runtime/operator_host.h"
#include "snapshot/layer_format.h"
#include "support/host_test_support.h"
#include "support/kube_test_env.h"

namespace wop::testing {
namespace {

namespace fs = std::filesystem;
using runtime::OperatorSpec;

const kube::ResourceInfo kTestResources{
    {"bench.wasm-operator.dev", "v1", "testresources"}, "TestResource", true};
constexpr const char* kCountAnnotation = "counter.wasm-operator.dev/count";

class SwapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    ASSERT_NE(client_, nullptr);
    applyManifests(*client_, std::string(WOP_SOURCE_DIR) + "/deploy/crds/testresources.yaml");
    applyManifests(*client_, std::string(WOP_SOURCE_DIR) + "/deploy/rbac/example-operators.yaml");
    scratch_ = fs::temp_directory_path() / ("wop-swap-test-" + std::to_string(::getpid()));
    fs::create_directories(scratch_ / "artifacts");
  }
  void TearDown() override {
    host_.reset();
    if (mounted_) ::umount2(swapDirectory().c_str(), MNT_DETACH);
    fs::remove_all(scratch_);
  }

  fs::path swapDirectory() const { return scratch_ / "snapshots"; }

  // predict off and no idle period: every operator swaps out as soon as it has nothing to do.
  // guestMemoryReservation: HostOptions::guestMemoryReservationBytes (0: Wasmtime's layout).
  void startHost(bool predict = false,
                 std::chrono::milliseconds idleAfter = std::chrono::milliseconds(0),
                 uint64_t guestMemoryReservation = 0, uint64_t memoryBudget = 0) {
    runtime::HostOptions options{.workers = 2,
                                 .artifactDirectory = (scratch_ / "artifacts").string(),
                                 .restartBackoffBase = std::chrono::milliseconds(100),
                                 .restartBackoffMax = std::chrono::seconds(1),
                                 .observer = figures_};
    options.guestMemoryReservationBytes = guestMemoryReservation;
    options.swap = {.enabled = true,
                    .directory = swapDirectory().string(),
                    .idleAfter = idleAfter,
                    .predict = predict,
                    .memoryBudgetBytes = memoryBudget};
    host_ = std::make_unique<runtime::OperatorHost>(*client_, options, logs_.sink());
  }

  // A counter operator watching the ConfigMap "tally" in ns (by label: the namespace has others).
  void startCounter(const std::string& name, const std::string& ns) {
    ensureNamespace(*client_, ns);
    removeIfPresent(*client_, kConfigMaps, ns, "tally");
    OperatorSpec spec{
        .name = name,
        .modulePath = std::string(WOP_WASM_DIR) + "/counter.wasm",
        .trusted = true,
        .configJson =
            nlohmann::json({{"namespace", ns}, {"labelSelector", "swap-test=tally"}}).dump()};
    auto added = host_->add(spec);
    ASSERT_TRUE(added.isOk()) << added.toString();
    nlohmann::json tally = {{"apiVersion", "v1"},
                            {"kind", "ConfigMap"},
                            {"metadata",
                             {{"name", "tally"},
                              {"namespace", ns},
                              {"labels", {{"tick", "0"}, {"swap-test", "tally"}}}}}};
    ASSERT_TRUE(client_->create(kConfigMaps, ns, tally.dump()));
    ASSERT_TRUE(eventually([&] { return count(ns) == 1; }));
  }

  // The counter's reconcile count as it last wrote it; -1 before its first write.
  int64_t count(const std::string& ns) {
    auto object = client_->get(kConfigMaps, ns, "tally");
    if (!object) return -1;
    auto json = parseJson(*object);
    auto annotations = json["metadata"].value("annotations", nlohmann::json::object());
    return annotations.contains(kCountAnnotation)
               ? std::stoll(annotations[kCountAnnotation].get<std::string>())
               : -1;
  }

  void tick(const std::string& ns, int value) {
    auto patched = client_->patch(
        kConfigMaps, ns, "tally", kube::PatchType::kJsonMerge,
        nlohmann::json({{"metadata", {{"labels", {{"tick", std::to_string(value)}}}}}}).dump());
    ASSERT_TRUE(patched) << patched.error().toString();
  }

  bool swappedOut(const std::string& name) { return statsOf(*host_, name).swappedOut; }

  // The layer files of an operator's snapshot chain, oldest (the full layer) first.
  std::vector<fs::path> layers(const std::string& name) {
    std::vector<std::pair<uint64_t, fs::path>> found;
    // Each instance of an operator has a folder "<name>.<incarnation>" of its own.
    for (const auto& folder : fs::directory_iterator(host_->snapshotDirectory())) {
      if (!folder.path().filename().string().starts_with(name + ".")) continue;
      for (const auto& entry : fs::directory_iterator(folder.path())) {
        if (entry.path().extension() == ".snap")
          found.emplace_back(std::stoull(entry.path().stem().string()), entry.path());
      }
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> out;
    for (auto& [sequence, path] : found) out.push_back(path);
    return out;
  }

  std::unique_ptr<kube::Client> client_;
  fs::path scratch_;
  bool mounted_ = false;
  LogCapture logs_;
  std::shared_ptr<runtime::FigureRecorder> figures_ = std::make_shared<runtime::FigureRecorder>();
  std::unique_ptr<runtime::OperatorHost> host_;
};

TEST_F(SwapTest, AnOperatorCountingInMemoryKeepsCountingAcross100SwapCycles) {
  startHost();
  startCounter("swap-counter", "swap-count");
  for (int i = 1; i <= 100; ++i) {
    ASSERT_TRUE(eventually([&] { return swappedOut("swap-counter"); })) << "cycle " << i;
    tick("swap-count", i);
    ASSERT_TRUE(eventually([&] { return count("swap-count") == i + 1; }))
        << "cycle " << i << ": count " << count("swap-count");
  }
  const auto stats = statsOf(*host_, "swap-counter");
  EXPECT_GE(stats.swapOuts, 100u);
  EXPECT_GE(stats.restores, 100u);
  EXPECT_GE(stats.wakesSwapped, 100u);
  EXPECT_EQ(stats.snapshotFaults, 0u);
  EXPECT_EQ(stats.restarts, 0u);
  EXPECT_FALSE(figures_->takeLatencySamples(runtime::WakeKind::kSwapped).empty());
}

// The host's memory budget (SwapOptions::memoryBudgetBytes): with an idle period of an hour
// nothing would swap out, but resident memories above the budget send the least recently
// active operators out, and they come back with their state when their change arrives.
TEST_F(SwapTest, AMemoryBudgetSwapsOutTheLeastRecentlyActiveBeforeTheirIdlePeriodEnds) {
  startHost(/*predict=*/false, std::chrono::hours(1), /*guestMemoryReservation=*/0,
            /*memoryBudget=*/1);  // one byte: only the operator that just ran may stay
  const std::vector<std::string> names = {"budget-a", "budget-b", "budget-c"};
  for (const auto& name : names) startCounter(name, name);
  // Each start made the one before it the least recently active.
  ASSERT_TRUE(eventually([&] { return swappedOut("budget-a") && swappedOut("budget-b"); }));
  EXPECT_FALSE(swappedOut("budget-c"));
  tick("budget-a", 1);  // a's change restores it; now c is the older and goes
  ASSERT_TRUE(eventually([&] { return count("budget-a") == 2; })) << count("budget-a");
  ASSERT_TRUE(eventually([&] { return swappedOut("budget-c"); }));
  for (const auto& name : names) EXPECT_EQ(statsOf(*host_, name).restarts, 0u) << name;
  EXPECT_GE(statsOf(*host_, "budget-a").restores, 1u);
}

// Memories reserved at 64 MiB (bounds-checked code, memories that never move): swap cycles keep
// the count, and an operator whose memory limit is above the reservation is refused at load.
TEST_F(SwapTest, UnderASmallGuestMemoryReservationSwapsKeepStateAndBiggerLimitsAreRefused) {
  startHost(false, std::chrono::milliseconds(0), 64u << 20);
  auto refused = host_->add({.name = "too-big",
                             .modulePath = std::string(WOP_WASM_DIR) + "/counter.wasm",
                             .trusted = true,
                             .maxMemoryBytes = 128u << 20});
  ASSERT_FALSE(refused.isOk());
  EXPECT_THAT(refused.message(), ::testing::HasSubstr("operator too-big: its memory limit of 128 "
                                                      "MiB is above the guest memory reservation"));
  EXPECT_EQ(statsOf(*host_, "too-big").name, "");
  startCounter("reserved-counter", "swap-reserved");
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(eventually([&] { return swappedOut("reserved-counter"); })) << "cycle " << i;
    tick("swap-reserved", i);
    ASSERT_TRUE(eventually([&] { return count("swap-reserved") == i + 1; }))
        << "cycle " << i << ": count " << count("swap-reserved");
  }
  const auto stats = statsOf(*host_, "reserved-counter");
  EXPECT_GE(stats.restores, 10u);
  EXPECT_EQ(stats.snapshotFaults, 0u);
  EXPECT_EQ(stats.restarts, 0u);
}

struct Damage {
  const char* name;
  void (*apply)(const fs::path& layer);
  const char* expectedMessage;
  bool toFullLayer = false;  // else to the newest delta
};

snapshot::LayerHeader headerOf(const fs::path& layer) {
  std::ifstream in(layer, std::ios::binary);
  std::vector<uint8_t> bytes(65536);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  auto header = snapshot::parseLayerHeader(bytes);
  EXPECT_TRUE(header) << header.status().toString();
  return header ? *header : snapshot::LayerHeader{};
}

void writeByte(const fs::path& layer, uint64_t offset, uint8_t value) {
  std::fstream file(layer, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(static_cast<std::streamoff>(offset));
  file.put(static_cast<char>(value));
}

const Damage kDamages[] = {
    {"missing", [](const fs::path& layer) { fs::remove(layer); }, "is missing"},
    {"truncated",
     [](const fs::path& layer) { fs::resize_file(layer, headerOf(layer).dataOffset + 4096); },
     "is truncated"},
    {"corrupt_header", [](const fs::path& layer) { writeByte(layer, 40, 0x5a); },
     "header checksum mismatch"},
    {"wrong_version", [](const fs::path& layer) { writeByte(layer, 8, 7); }, "format version 7"},
    // A byte in the last page of memory (free heap, a hole in the full layer): the guest never
    // reads it, so only the data checksum, checked after the restore, can tell.
    {"corrupt_data",
     [](const fs::path& layer) {
       const auto header = headerOf(layer);
       writeByte(layer, header.dataOffset + header.memoryBytes - 100, 0xa5);
     },
     "bad data checksum", true},
};

class SwapFaultTest : public SwapTest, public ::testing::WithParamInterface<Damage> {};

TEST_P(SwapFaultTest, ADamagedSnapshotMeansAFreshInstanceAndNoLostChange) {
  const Damage& damage = GetParam();
  std::string name = std::string("swap-fault-") + damage.name;
  std::replace(name.begin(), name.end(), '_', '-');  // a Kubernetes name
  const std::string ns = name;
  startHost();
  startCounter(name, ns);
  for (int i = 1; i <= 2; ++i) {  // a chain of a full layer and deltas
    ASSERT_TRUE(eventually([&] { return swappedOut(name); }));
    tick(ns, i);
    ASSERT_TRUE(eventually([&] { return count(ns) == i + 1; }));
  }
  ASSERT_TRUE(eventually([&] { return swappedOut(name); }));
  const auto chain = layers(name);
  ASSERT_GE(chain.size(), 2u);  // a full layer and deltas
  damage.apply(damage.toFullLayer ? chain.front() : chain.back());
  tick(ns, 100);
  ASSERT_TRUE(eventually([&] { return statsOf(*host_, name).snapshotFaults == 1; }));
  EXPECT_TRUE(logs_.contains(damage.expectedMessage));
  EXPECT_TRUE(logs_.contains("starting from a fresh instance and queueing every key again"));
  // A fresh instance counts from 1 again and reconciled the key (queued again, and changed).
  // (Its count may be overwritten once by a write the dropped instance had in flight, so the
  // next change tells: it is counted from the fresh start, at most 2 reconciles ago.)
  ASSERT_TRUE(eventually([&] { return swappedOut(name); }));
  tick(ns, 101);
  ASSERT_TRUE(eventually([&] { return count(ns) >= 2 && count(ns) <= 3; }))
      << "count " << count(ns);
}

INSTANTIATE_TEST_SUITE_P(Damages, SwapFaultTest, ::testing::ValuesIn(kDamages),
                         [](const auto& info) { return std::string(info.param.name); });

// Its first global is mutable and unexported, like clang's __stack_pointer, but holds its count:
// saved like every other mutable global, the count goes on after a restore (it once went
// 2 -> 1 when the first mutable global was taken for the stack pointer and not saved).
TEST_F(SwapTest, AnUnexportedMutableGlobalKeepsItsValueAcrossSwaps) {
  startHost();
  const std::string ns = "swap-hidden-counter";
  ensureNamespace(*client_, ns);
  removeIfPresent(*client_, kConfigMaps, ns, "hidden");
  auto added =
      host_->add({.name = "hidden-counter",
                  .modulePath = std::string(WOP_SOURCE_DIR) + "/test/guests/hidden_counter.wat",
                  .trusted = true});
  ASSERT_TRUE(added.isOk()) << added.toString();
  ASSERT_TRUE(statsOf(*host_, "hidden-counter").swappable)
      << statsOf(*host_, "hidden-counter").lastError;
  nlohmann::json object = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", {{"name", "hidden"}, {"namespace", ns}, {"labels", {{"hidden-counter", "0"}}}}}};
  ASSERT_TRUE(client_->create(kConfigMaps, ns, object.dump()));
  for (int count = 1; count <= 3; ++count) {
    ASSERT_TRUE(eventually([&] { return logs_.contains("count: " + std::to_string(count)); }))
        << "count " << count;
    ASSERT_TRUE(eventually([&] { return swappedOut("hidden-counter"); })) << "count " << count;
    auto patched = client_->patch(
        kConfigMaps, ns, "hidden", kube::PatchType::kJsonMerge,
        nlohmann::json({{"metadata", {{"labels", {{"hidden-counter", std::to_string(count)}}}}}})
            .dump());
    ASSERT_TRUE(patched) << patched.error().toString();
  }
  ASSERT_TRUE(eventually([&] { return logs_.contains("count: 4"); }));
  EXPECT_GE(statsOf(*host_, "hidden-counter").restores, 3u);
  EXPECT_EQ(statsOf(*host_, "hidden-counter").restarts, 0u);
}

TEST_F(SwapTest, AFullDiskLeavesTheOperatorResidentAndReconciling) {
  fs::create_directories(swapDirectory());
  if (::mount("tmpfs", swapDirectory().c_str(), "tmpfs", 0, "size=256k,mode=0700") != 0) {
    GTEST_SKIP() << "needs root to mount a small tmpfs: " << std::strerror(errno);
  }
  mounted_ = true;
  {
    // Fill it, leaving no room for a snapshot.
    std::ofstream filler(swapDirectory() / "filler", std::ios::binary);
    std::vector<char> block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  startHost();
  startCounter("swap-full-disk", "swap-full-disk");
  ASSERT_TRUE(eventually([&] { return logs_.contains("staying resident: cannot swap out"); }));
  EXPECT_FALSE(swappedOut("swap-full-disk"));
  tick("swap-full-disk", 1);
  ASSERT_TRUE(eventually([&] { return count("swap-full-disk") == 2; }));
  EXPECT_EQ(statsOf(*host_, "swap-full-disk").swapOuts, 0u);
}

size_t linesContaining(LogCapture& logs, const std::string& text) {
  std::lock_guard lock(logs.mutex);
  return static_cast<size_t>(
      std::count_if(logs.lines.begin(), logs.lines.end(),
                    [&](const auto& l) { return l.find(text) != std::string::npos; }));
}

// A layer file shrinking under the memory of a resident, restored guest: the pages it still
// maps from the file are gone (truncation drops even its private copies), and touching them is
// a SIGBUS. That must cost the operator a fresh start, not the host its life.
TEST_F(SwapTest, ALayerTruncatedUnderAResidentOperatorRestartsItAndNotTheHost) {
  startHost(/*predict=*/false, std::chrono::milliseconds(3000));
  const std::string name = "swap-shrunk", ns = "swap-shrunk";
  startCounter(name, ns);
  ASSERT_TRUE(eventually([&] { return swappedOut(name); }));
  tick(ns, 1);
  ASSERT_TRUE(eventually([&] { return count(ns) == 2; }));
  ASSERT_FALSE(swappedOut(name)) << "resident for its idle period, its memory mapping the layer";
  const auto chain = layers(name);
  ASSERT_EQ(chain.size(), 1u);

  fs::resize_file(chain.front(), headerOf(chain.front()).dataOffset);  // no page left
  tick(ns, 2);

  ASSERT_TRUE(eventually([&] { return statsOf(*host_, name).snapshotFaults == 1; }));
  EXPECT_TRUE(logs_.contains("read memory its snapshot could not give back"));
  EXPECT_TRUE(logs_.contains("starting from a fresh instance and queueing every key again"));
  // The fresh instance works and swaps as before: a change after the fault is reconciled.
  ASSERT_TRUE(eventually([&] { return swappedOut(name); }, std::chrono::seconds(20)));
  tick(ns, 3);
  ASSERT_TRUE(eventually([&] { return count(ns) >= 2 && count(ns) <= 3; }))
      << "count " << count(ns);
  EXPECT_EQ(statsOf(*host_, name).restarts, 0u);
}

// A small tmpfs that the operators' own layers fill: some are written, others fail with ENOSPC,
// and a restore then faults on the holes (zero pages) of the written ones, which a full tmpfs
// cannot allocate. Each such operator starts afresh; the host and every change survive.
TEST_F(SwapTest, ASmallTmpfsFilledByLayersCostsRestartsNotTheHost) {
  fs::create_directories(swapDirectory());
  if (::mount("tmpfs", swapDirectory().c_str(), "tmpfs", 0, "size=1m,mode=0700") != 0) {
    GTEST_SKIP() << "needs root to mount a small tmpfs: " << std::strerror(errno);
  }
  mounted_ = true;
  startHost();
  constexpr int kOperators = 4;
  auto nameOf = [](int i) { return "swap-tmpfs-" + std::to_string(i); };
  for (int i = 0; i < kOperators; ++i) startCounter(nameOf(i), nameOf(i));
  // Each operator either swapped out or found the tmpfs full.
  ASSERT_TRUE(eventually([&] {
    for (int i = 0; i < kOperators; ++i) {
      if (!swappedOut(nameOf(i)) && !logs_.contains(nameOf(i) + ": staying resident")) return false;
    }
    return true;
  }));
  int swapped = 0;
  for (int i = 0; i < kOperators; ++i) swapped += swappedOut(nameOf(i)) ? 1 : 0;
  ASSERT_GT(swapped, 0) << "no layer fitted";
  {
    // Whatever room the layers left is taken, so no hole can be allocated.
    std::ofstream filler(swapDirectory() / "filler", std::ios::binary);
    std::vector<char> block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  std::vector<size_t> reconciles;
  for (int i = 0; i < kOperators; ++i) {
    reconciles.push_back(linesContaining(logs_, nameOf(i) + ": reconcile "));
    tick(nameOf(i), 1);
  }
  for (int i = 0; i < kOperators; ++i) {
    ASSERT_TRUE(eventually([&] {
      return linesContaining(logs_, nameOf(i) + ": reconcile ") > reconciles[i];
    })) << nameOf(i)
        << " did not reconcile its change";
  }
  uint64_t faults = 0;
  for (int i = 0; i < kOperators; ++i) faults += statsOf(*host_, nameOf(i)).snapshotFaults;
  EXPECT_GT(faults, 0u) << "no restore touched a hole of the full tmpfs";
  EXPECT_TRUE(logs_.contains("read memory its snapshot could not give back"));
}

// The host's snapshot folder removed from under it: the next swap-out makes it again (and says
// so once), instead of staying resident for good.
TEST_F(SwapTest, ARemovedSnapshotFolderIsMadeAgainAndSwappingGoesOn) {
  startHost();
  const std::string name = "swap-folder-gone", ns = "swap-folder-gone";
  startCounter(name, ns);
  ASSERT_TRUE(eventually([&] { return swappedOut(name); }));
  const auto swapOuts = statsOf(*host_, name).swapOuts;

  fs::remove_all(swapDirectory());
  tick(ns, 1);

  ASSERT_TRUE(eventually([&] { return statsOf(*host_, name).swapOuts > swapOuts; }));
  EXPECT_TRUE(fs::is_directory(host_->snapshotDirectory()));
  EXPECT_EQ(linesContaining(logs_, "had been removed; made it again"), 1u);
  EXPECT_FALSE(logs_.contains("staying resident"));
  for (int i = 2; i <= 3; ++i) {
    ASSERT_TRUE(eventually([&] { return swappedOut(name); }));
    tick(ns, i);
    ASSERT_TRUE(eventually([&] { return count(ns) >= 1; }));
  }
  ASSERT_TRUE(eventually([&] { return swappedOut(name); }));
  EXPECT_EQ(linesContaining(logs_, "had been removed; made it again"), 1u);
}

TEST_F(SwapTest, ARingOfSwappingOperatorsLosesNoChange) {
  startHost(/*predict=*/true, std::chrono::milliseconds(0));
  constexpr int kOperators = 6;
  for (int i = 0; i < kOperators; ++i) ensureNamespace(*client_, "swap-ring-" + std::to_string(i));
  for (int i = 0; i < kOperators; ++i) {
    nlohmann::json config = {
        {"inputNamespace", "swap-ring-" + std::to_string(i)},
        {"outputNamespace", "swap-ring-" + std::to_string((i + 1) % kOperators)}};
    OperatorSpec spec{.name = "swap-ring-op-" + std::to_string(i),
                      .modulePath = std::string(WOP_WASM_DIR) + "/ring.wasm",
                      .trusted = true,
                      .configJson = config.dump()};
    ASSERT_TRUE(host_->add(spec).isOk());
  }
  auto nonceIn = [&](const std::string& ns, const std::string& name) -> int64_t {
    auto object = client_->get(kTestResources, ns, name);
    return object ? parseJson(*object)["spec"].value("nonce", int64_t{-1}) : -1;
  };
  auto setNonce = [&](const std::string& name, int64_t nonce) {
    nlohmann::json body = {{"apiVersion", "bench.wasm-operator.dev/v1"},
                           {"kind", "TestResource"},
                           {"metadata", {{"name", name}, {"namespace", "swap-ring-0"}}},
                           {"spec", {{"nonce", nonce}}}};
    auto patched = client_->patch(kTestResources, "swap-ring-0", name, kube::PatchType::kJsonMerge,
                                  nlohmann::json({{"spec", {{"nonce", nonce}}}}).dump());
    if (!patched) ASSERT_TRUE(client_->create(kTestResources, "swap-ring-0", body.dump()));
  };
  // Three objects changing at once, twenty times, with operators swapping in and out between.
  const std::vector<std::string> names = {"alpha", "beta", "gamma"};
  for (int round = 1; round <= 20; ++round) {
    for (const auto& name : names) setNonce(name, round);
    ASSERT_TRUE(eventually([&] {
      for (const auto& name : names) {
        if (nonceIn("swap-ring-" + std::to_string(kOperators - 1), name) != round) return false;
      }
      return true;
    })) << "round "
        << round;
  }
  uint64_t swapOuts = 0, restores = 0;
  for (int i = 0; i < kOperators; ++i) {
    for (const auto& name : names)
      EXPECT_EQ(nonceIn("swap-ring-" + std::to_string(i), name), 20) << i << " " << name;
    const auto stats = statsOf(*host_, "swap-ring-op-" + std::to_string(i));
    EXPECT_EQ(stats.snapshotFaults, 0u);
    EXPECT_EQ(stats.restarts, 0u);
    swapOuts += stats.swapOuts;
    restores += stats.restores;
  }
  EXPECT_GT(swapOuts, static_cast<uint64_t>(kOperators));
  EXPECT_GT(restores, static_cast<uint64_t>(kOperators));
}

}  // namespace
}  // namespace wop::testing
