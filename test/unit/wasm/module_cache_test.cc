#include "wasm/module_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/clock.h"
#include "common/file.h"
#include "wasm/guest_instance.h"

namespace wop::wasm {
namespace {

class ModuleCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("wop-module-cache-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::filesystem::path> artifacts() const {
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir_))
      found.push_back(entry.path());
    return found;
  }

  std::filesystem::path dir_;
  Engine engine_;
};

TEST_F(ModuleCacheTest, CompilesOnceThenMapsTheArtifactAfterARestart) {
  {
    ModuleCache cache(engine_, dir_.string());
    auto module = cache.load(WOP_JSON_ROUNDTRIP_WASM, {});
    ASSERT_TRUE(module) << module.status().toString();
    EXPECT_EQ(cache.counters().compiled, 1u);
    auto again = cache.load(WOP_JSON_ROUNDTRIP_WASM, {});
    ASSERT_TRUE(again);
    EXPECT_EQ(cache.counters().sharedInMemory, 1u);
  }
  ASSERT_EQ(artifacts().size(), 1u);
  EXPECT_EQ(std::filesystem::status(dir_).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  // Compiled code the host maps and runs: only its user may read it, like snapshots.
  EXPECT_EQ(std::filesystem::status(artifacts()[0]).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  ModuleCache restarted(engine_, dir_.string());  // a new host process: nothing in memory
  auto module = restarted.load(WOP_JSON_ROUNDTRIP_WASM, {});
  ASSERT_TRUE(module) << module.status().toString();
  EXPECT_EQ(restarted.counters().loadedFromDisk, 1u);
  EXPECT_EQ(restarted.counters().compiled, 0u);
  auto instance = GuestInstance::create(engine_, *module, {});
  ASSERT_TRUE(instance);
  EXPECT_TRUE(instance->callWithBytes(
      "roundtrip", R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}})"));
}

// The memory budget counts an operator's share of its compiled code: the image the module maps,
// over the operators holding it (one mapping serves them all).
TEST_F(ModuleCacheTest, OperatorsWithTheSameModuleShareOneImage) {
  ModuleCache cache(engine_, dir_.string());
  auto first = cache.load(WOP_JSON_ROUNDTRIP_WASM, {});
  ASSERT_TRUE(first) << first.status().toString();
  const uint64_t image = first->imageBytes();
  EXPECT_GT(image, 4096u);
  EXPECT_LE(image, std::filesystem::file_size(artifacts().at(0)));
  EXPECT_EQ(first->imageHolders(), 1);
  {
    auto second = cache.load(WOP_JSON_ROUNDTRIP_WASM, {});
    ASSERT_TRUE(second);
    EXPECT_EQ(second->imageBytes(), image);
    EXPECT_EQ(first->imageHolders(), 2);
  }
  EXPECT_EQ(first->imageHolders(), 1);
}

// A tiny module of its own per value, written as a file: modules with distinct identities.
std::string writeModule(const std::filesystem::path& folder, int value) {
  std::filesystem::create_directories(folder);
  const std::string wat =
      "(module (memory (export \"memory\") 1) (func (export \"f\") (result i32) i32.const " +
      std::to_string(value) + "))";
  auto bytes = wasmtime::wat2wasm(wat);
  EXPECT_TRUE(bytes);
  const auto wasm = bytes.unwrap();
  const auto path = folder / ("module-" + std::to_string(value) + ".wasm");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(wasm.data()), static_cast<std::streamsize>(wasm.size()));
  return path.string();
}

// Swapped-out operators let their module go; a parked one comes back from memory, not by
// mapping and registering its artifact again.
TEST_F(ModuleCacheTest, AParkedModuleIsReloadedFromMemoryNotFromItsArtifact) {
  ModuleCache cache(engine_, dir_.string(), 4);
  std::string identity;
  {
    auto module = cache.load(WOP_JSON_ROUNDTRIP_WASM, {});
    ASSERT_TRUE(module) << module.status().toString();
    identity = module->identity();
    EXPECT_TRUE(cache.park(identity, *module));
    EXPECT_TRUE(cache.park(identity, *module));  // parked again: still one entry
  }
  EXPECT_EQ(cache.parked(), 1u);

  auto reloaded = cache.reload(identity, "json");

  ASSERT_TRUE(reloaded) << reloaded.status().toString();
  EXPECT_EQ(cache.counters().loadedFromDisk, 0u);
  EXPECT_EQ(cache.parked(), 0u);  // taken back: no longer parked
  EXPECT_EQ(reloaded->imageHolders(), 1);
  auto instance = GuestInstance::create(engine_, *reloaded, {});
  ASSERT_TRUE(instance);
  EXPECT_TRUE(instance->callWithBytes(
      "roundtrip", R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}})"));
}

TEST_F(ModuleCacheTest, ParkingKeepsAtMostItsLimitAndLetsTheLeastRecentlyParkedGo) {
  ModuleCache cache(engine_, dir_.string(), 1);
  std::string first, second;
  {
    auto a = cache.load(writeModule(dir_ / "wasm", 1), {});
    auto b = cache.load(writeModule(dir_ / "wasm", 2), {});
    ASSERT_TRUE(a) << a.status().toString();
    ASSERT_TRUE(b) << b.status().toString();
    first = a->identity();
    second = b->identity();
    ASSERT_NE(first, second);
    EXPECT_TRUE(cache.park(first, *a));
    EXPECT_TRUE(cache.park(second, *b));  // over the limit: a goes
  }
  EXPECT_EQ(cache.parked(), 1u);

  ASSERT_TRUE(cache.reload(second, "b"));
  EXPECT_EQ(cache.counters().loadedFromDisk, 0u);
  ASSERT_TRUE(cache.reload(first, "a"));
  EXPECT_EQ(cache.counters().loadedFromDisk, 1u);
}

// Parking again counts as the latest parking: the one let go is the one parked longest ago.
TEST_F(ModuleCacheTest, ParkingAgainMakesAModuleTheMostRecentlyParked) {
  ModuleCache cache(engine_, dir_.string(), 2);
  std::string identities[3];
  {
    std::vector<GuestModule> modules;
    for (int i = 0; i < 3; ++i) {
      auto module = cache.load(writeModule(dir_ / "wasm", 10 + i), {});
      ASSERT_TRUE(module) << module.status().toString();
      identities[i] = module->identity();
      modules.push_back(std::move(*module));
    }
    EXPECT_TRUE(cache.park(identities[0], modules[0]));
    EXPECT_TRUE(cache.park(identities[1], modules[1]));
    EXPECT_TRUE(cache.park(identities[0], modules[0]));  // now the most recent
    EXPECT_TRUE(cache.park(identities[2], modules[2]));  // over the limit: 1 goes, not 0
  }
  EXPECT_EQ(cache.parked(), 2u);

  ASSERT_TRUE(cache.reload(identities[0], "a"));
  ASSERT_TRUE(cache.reload(identities[2], "c"));
  EXPECT_EQ(cache.counters().loadedFromDisk, 0u);
  ASSERT_TRUE(cache.reload(identities[1], "b"));
  EXPECT_EQ(cache.counters().loadedFromDisk, 1u);
}

// Loads count distinct modules (seeded from seed) and lets every holder go, so that each is
// only parked or on disk.
std::vector<std::string> loadDistinct(ModuleCache& cache, const std::filesystem::path& folder,
                                      int seed, int count) {
  std::vector<std::string> identities;
  for (int i = 0; i < count; ++i) {
    auto module = cache.load(writeModule(folder, seed + i), {});
    EXPECT_TRUE(module) << module.status().toString();
    if (module) identities.push_back(module->identity());
  }
  return identities;
}

// Each of identities' modules, held (so that each can be parked by the test).
std::vector<GuestModule> reloadAll(ModuleCache& cache, const std::vector<std::string>& identities) {
  std::vector<GuestModule> modules;
  for (const auto& identity : identities) modules.push_back(*cache.reload(identity, "m"));
  return modules;
}

common::TimePoint at(int seconds) { return common::TimePoint{} + std::chrono::seconds(seconds); }

TEST_F(ModuleCacheTest, OverTheLimitTheModuleDueBackFurthestIsNotKept) {
  ModuleCache cache(engine_, dir_.string(), 2);
  const auto ids = loadDistinct(cache, dir_ / "wasm", 20, 3);
  ASSERT_EQ(ids.size(), 3u);
  {
    auto modules = reloadAll(cache, ids);
    EXPECT_TRUE(cache.park(ids[0], modules[0], {.at = at(12), .now = at(10)}));
    EXPECT_TRUE(cache.park(ids[1], modules[1], {.at = at(11), .now = at(10)}));
    EXPECT_FALSE(cache.park(ids[2], modules[2], {.at = at(13), .now = at(10)}));
  }
  const auto fromDisk = cache.counters().loadedFromDisk;
  ASSERT_TRUE(cache.reload(ids[0], "a"));
  ASSERT_TRUE(cache.reload(ids[1], "b"));
  EXPECT_EQ(cache.counters().loadedFromDisk, fromDisk);
  ASSERT_TRUE(cache.reload(ids[2], "c"));
  EXPECT_EQ(cache.counters().loadedFromDisk, fromDisk + 1);
}

// The ring's pattern: operators come back in a fixed cycle longer than the limit. Least
// recently parked first, every module had gone by the time its turn came; furthest-due first,
// a limit's worth of the cycle stays parked and comes back from memory on every lap.
TEST_F(ModuleCacheTest, ACycleLongerThanTheLimitReloadsALimitsWorthFromMemoryEveryLap) {
  constexpr int kCycle = 5;
  constexpr size_t kLimit = 3;
  ModuleCache cache(engine_, dir_.string(), kLimit);
  const auto ids = loadDistinct(cache, dir_ / "wasm", 30, kCycle);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kCycle));
  int second = 100;
  for (int lap = 0; lap < 4; ++lap) {
    const auto fromDiskBefore = cache.counters().loadedFromDisk;
    for (const auto& id : ids) {
      auto module = cache.reload(id, "m");  // its change: restored
      ASSERT_TRUE(module) << module.status().toString();
      ++second;  // it ran, and is swapped out until the same time next lap
      cache.park(id, *module, {.at = at(second + kCycle), .now = at(second)});
    }
    const auto fromDisk = cache.counters().loadedFromDisk - fromDiskBefore;
    if (lap > 0) EXPECT_EQ(fromDisk, kCycle - kLimit) << "lap " << lap;
  }
  EXPECT_EQ(cache.parked(), kLimit);
}

// A guess that did not come true (late by more than the wait it predicted) would otherwise
// hold its place for good as due any moment.
TEST_F(ModuleCacheTest, AGuessLateByMoreThanItsWaitGoesBeforeTheFurthestDue) {
  ModuleCache cache(engine_, dir_.string(), 2);
  const auto ids = loadDistinct(cache, dir_ / "wasm", 40, 3);
  ASSERT_EQ(ids.size(), 3u);
  {
    auto modules = reloadAll(cache, ids);
    EXPECT_TRUE(cache.park(ids[0], modules[0], {.at = at(11), .now = at(10)}));  // 1 s wait
    // At 13 s it is 2 s late.
    EXPECT_TRUE(cache.park(ids[1], modules[1], {.at = at(14), .now = at(13)}));
    EXPECT_TRUE(cache.park(ids[2], modules[2], {.at = at(15), .now = at(13)}));
  }
  const auto fromDisk = cache.counters().loadedFromDisk;
  ASSERT_TRUE(cache.reload(ids[1], "b"));
  ASSERT_TRUE(cache.reload(ids[2], "c"));
  EXPECT_EQ(cache.counters().loadedFromDisk, fromDisk);
  ASSERT_TRUE(cache.reload(ids[0], "a"));
  EXPECT_EQ(cache.counters().loadedFromDisk, fromDisk + 1);
}

// Without prediction nothing says when a module comes back: those go first, least recently
// parked first, as before guesses were used.
TEST_F(ModuleCacheTest, ModulesWithoutAGuessGoBeforeThoseWithOne) {
  ModuleCache cache(engine_, dir_.string(), 2);
  const auto ids = loadDistinct(cache, dir_ / "wasm", 50, 3);
  ASSERT_EQ(ids.size(), 3u);
  {
    auto modules = reloadAll(cache, ids);
    EXPECT_TRUE(cache.park(ids[0], modules[0], {.at = at(1000), .now = at(10)}));
    EXPECT_TRUE(cache.park(ids[1], modules[1], {.now = at(10)}));
    EXPECT_TRUE(cache.park(ids[2], modules[2], {.at = at(2000), .now = at(10)}));
  }
  const auto fromDisk = cache.counters().loadedFromDisk;
  ASSERT_TRUE(cache.reload(ids[0], "a"));
  ASSERT_TRUE(cache.reload(ids[2], "c"));
  EXPECT_EQ(cache.counters().loadedFromDisk, fromDisk);
  ASSERT_TRUE(cache.reload(ids[1], "b"));
  EXPECT_EQ(cache.counters().loadedFromDisk, fromDisk + 1);
}

TEST_F(ModuleCacheTest, WithALimitOfNoneNothingIsParked) {
  ModuleCache cache(engine_, dir_.string(), 0);
  std::string identity;
  {
    auto module = cache.load(WOP_JSON_ROUNDTRIP_WASM, {});
    ASSERT_TRUE(module);
    identity = module->identity();
    EXPECT_FALSE(cache.park(identity, *module));
  }
  ASSERT_TRUE(cache.reload(identity, "json"));
  EXPECT_EQ(cache.counters().loadedFromDisk, 1u);
}

// Code compiled for one memory reservation has that reservation's bounds checks: a host
// restarted with another compiles afresh and keeps both artifacts, each found again by its own.
TEST_F(ModuleCacheTest, EachMemoryReservationHasArtifactsOfItsOwn) {
  Engine reserved({.memoryReservationBytes = 64u << 20});
  {
    ModuleCache cache(engine_, dir_.string());
    ASSERT_TRUE(cache.load(WOP_JSON_ROUNDTRIP_WASM, {}));
  }
  ModuleCache other(reserved, dir_.string());
  auto module = other.load(WOP_JSON_ROUNDTRIP_WASM, {});
  ASSERT_TRUE(module) << module.status().toString();
  EXPECT_EQ(other.counters().compiled, 1u);
  EXPECT_EQ(other.counters().loadedFromDisk, 0u);
  EXPECT_EQ(artifacts().size(), 2u);
  auto instance = GuestInstance::create(reserved, *module, {});
  ASSERT_TRUE(instance) << instance.status().toString();
  EXPECT_TRUE(instance->callWithBytes(
      "roundtrip", R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}})"));

  ModuleCache restarted(reserved, dir_.string());
  ASSERT_TRUE(restarted.load(WOP_JSON_ROUNDTRIP_WASM, {}));
  EXPECT_EQ(restarted.counters().loadedFromDisk, 1u);
  EXPECT_EQ(restarted.counters().compiled, 0u);
}

TEST_F(ModuleCacheTest, ACorruptArtifactIsReplacedNotTrusted) {
  {
    ModuleCache cache(engine_, dir_.string());
    ASSERT_TRUE(cache.load(WOP_JSON_ROUNDTRIP_WASM, {}));
  }
  const auto artifact = artifacts().at(0);
  std::ofstream(artifact, std::ios::binary | std::ios::trunc) << "garbage, not an artifact";
  ModuleCache cache(engine_, dir_.string());
  auto module = cache.load(WOP_JSON_ROUNDTRIP_WASM, {});
  ASSERT_TRUE(module) << module.status().toString();
  EXPECT_EQ(cache.counters().compiled, 1u);
  EXPECT_EQ(cache.counters().loadedFromDisk, 0u);
}

TEST_F(ModuleCacheTest, RequirementsAreCheckedOnEveryLoad) {
  ModuleCache cache(engine_, dir_.string());
  ModuleRequirements operatorAbi;
  operatorAbi.abiMarker = "wop_abi_version_1";
  operatorAbi.abiMarkerPrefix = "wop_abi_version_";
  auto refused = cache.load(WOP_JSON_ROUNDTRIP_WASM, operatorAbi);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("exports no ABI marker"));
  // Refused on its bytes: nothing was compiled, no artifact written.
  EXPECT_EQ(cache.counters().compiled, 0u);
  EXPECT_TRUE(artifacts().empty());
}

TEST_F(ModuleCacheTest, APinnedDigestIsCheckedBeforeAnythingIsCompiled) {
  ModuleCache cache(engine_, dir_.string());
  auto bytes = common::readFileBytes(WOP_JSON_ROUNDTRIP_WASM, 1 << 26);
  ASSERT_TRUE(bytes);
  ModuleRequirements pinned;
  pinned.sha256 = std::string(64, '0');
  auto refused = cache.load(WOP_JSON_ROUNDTRIP_WASM, pinned);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.status().message(),
              ::testing::HasSubstr("its sha256 is " + sha256Hex(*bytes) + ", not the " +
                                   pinned.sha256 + " its definition pins"));
  EXPECT_EQ(cache.counters().compiled, 0u);
  pinned.sha256 = sha256Hex(*bytes);
  EXPECT_TRUE(cache.load(WOP_JSON_ROUNDTRIP_WASM, pinned));
}

// A module keeping its count in a global it does not export, first of its globals (where clang
// keeps __stack_pointer): the cache compiles it with that global exported, so that a snapshot
// can save its value and set it in a fresh instance.
TEST_F(ModuleCacheTest, HiddenMutableGlobalsAreExportedForSnapshots) {
  std::filesystem::create_directories(dir_);
  const auto path = dir_ / "counter.wat";
  std::ofstream(path) << R"((module
      (memory (export "memory") 1)
      (global $count (mut i32) (i32.const 0))
      (func (export "bump") (result i32)
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (global.get $count))))";
  ModuleCache cache(engine_, (dir_ / "artifacts").string());
  auto module = cache.load(path.string(), {});
  ASSERT_TRUE(module) << module.status().toString();
  ASSERT_TRUE(module->capturableState()) << module->capturableState().status().toString();
  EXPECT_EQ(module->capturableState()->exportedMutableGlobals,
            std::vector<std::string>{"wop.global.0"});

  auto first = GuestInstance::create(engine_, *module, {});
  ASSERT_TRUE(first) << first.status().toString();
  ASSERT_TRUE(first->enter("bump", {}));
  ASSERT_TRUE(first->enter("bump", {}));
  auto saved = first->exportedGlobal("wop.global.0");
  ASSERT_TRUE(saved) << "the hidden global is not reachable";
  EXPECT_EQ(saved->i32(), 2);

  auto restored = GuestInstance::create(engine_, *module, {});
  ASSERT_TRUE(restored);
  ASSERT_TRUE(restored->setExportedGlobal("wop.global.0", *saved).isOk());
  auto bumped = restored->enter("bump", {});
  ASSERT_TRUE(bumped);
  EXPECT_EQ(bumped->front().i32(), 3) << "the count went on from the saved value";
}

TEST(Sha256, MatchesAKnownDigest) {
  const std::string abc = "abc";
  EXPECT_EQ(sha256Hex({reinterpret_cast<const uint8_t*>(abc.data()), abc.size()}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace wop::wasm
