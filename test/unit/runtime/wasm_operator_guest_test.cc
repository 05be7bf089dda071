#include "runtime/wasm_operator_guest.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <span>
#include <wasmtime.hh>

#include "bench/native/fake_services.h"
#include "kube/temp_dir.h"
#include "snapshot/operator_snapshot.h"
#include "wasm/memory_guest.h"
#include "wasm/module_cache.h"

namespace wop::runtime {
namespace {

constexpr uint64_t kMiB = 1u << 20;
constexpr int32_t kWasmPage = 64 << 10;

using test::kMemoryGuest;

int32_t markerOf(int32_t page, int32_t version) { return page * 1000 + version; }
int32_t addressOf(int32_t page) { return page * kWasmPage + 8; }

// Swap-out and restore of a real Wasm guest, under Wasmtime's default memory layout (0) and
// under a small reservation (memories that cannot move, bounds-checked code).
class WasmGuestRestoreTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    engine_.emplace(wasm::EngineOptions{.memoryReservationBytes = GetParam()});
    auto bytes = wasmtime::wat2wasm(kMemoryGuest);
    ASSERT_TRUE(bytes);
    auto module = wasm::GuestModule::compile(*engine_, bytes.unwrap(), "memory.wat");
    ASSERT_TRUE(module) << module.status().toString();
    auto linker = wasm::GuestLinker::create(*engine_);
    ASSERT_TRUE(linker);
    linker_ = std::move(*linker);
    auto prepared = linker_->prepare(*module);
    ASSERT_TRUE(prepared) << prepared.status().toString();
    identity_ = module->identity();
    factory_ = std::make_unique<WasmGuestFactory>(*engine_, std::move(*prepared),
                                                  wasm::InstanceLimits{.maxMemoryBytes = kLimit},
                                                  "memory", WasmGuestFactory::Reload{});
  }

  static wasm::GuestInstance& instanceOf(const std::unique_ptr<OperatorGuest>& guest) {
    return static_cast<WasmOperatorGuest&>(*guest).instance();
  }
  static int32_t call(const std::unique_ptr<OperatorGuest>& guest, const char* name,
                      std::vector<wasmtime::Val> args = {}) {
    auto results = instanceOf(guest).enter(name, args);
    EXPECT_TRUE(results) << results.status().toString();
    return results && !results->empty() ? results->front().i32() : -2;
  }
  static void store(const std::unique_ptr<OperatorGuest>& guest, int32_t page, int32_t version) {
    (void)call(guest, "store",
               {wasmtime::Val(addressOf(page)), wasmtime::Val(markerOf(page, version))});
  }
  static int32_t load(const std::unique_ptr<OperatorGuest>& guest, int32_t page) {
    return call(guest, "load", {wasmtime::Val(addressOf(page))});
  }

  std::unique_ptr<OperatorGuest> restore(snapshot::OperatorSnapshot& snapshot) {
    auto plan = snapshot.open();
    EXPECT_TRUE(plan) << plan.status().toString();
    if (!plan) return nullptr;
    auto guest = factory_->restore(services_, snapshot, *plan);
    EXPECT_TRUE(guest) << guest.status().toString();
    return guest ? std::move(*guest) : nullptr;
  }

  static constexpr uint64_t kLimit = 8 * kMiB;
  static constexpr int32_t kLimitPages = static_cast<int32_t>(kLimit / kWasmPage);
  std::optional<wasm::Engine> engine_;
  std::unique_ptr<wasm::GuestLinker> linker_;
  std::string identity_;
  std::unique_ptr<WasmGuestFactory> factory_;
  bench::testing::FakeServices services_;
  wop::testing::TempDir folder_;
};

TEST_P(WasmGuestRestoreTest, AGuestThatGrowsAfterARestoreKeepsItsDataThroughTheNextSwap) {
  snapshot::OperatorSnapshot snapshot(folder_.path() + "/memory", identity_);
  constexpr int32_t kSavedPages = 40;
  {
    auto guest = factory_->create(services_);
    ASSERT_TRUE(guest) << guest.status().toString();
    ASSERT_EQ(call(*guest, "grow", {wasmtime::Val(kSavedPages - 1)}), 1);
    for (int32_t page = 0; page < kSavedPages; ++page) store(*guest, page, 1);
    auto saved = (*guest)->saveTo(snapshot, /*restoredFromChain=*/false);
    ASSERT_TRUE(saved) << saved.status().toString();
    EXPECT_TRUE(saved->full);
  }
  {
    auto guest = restore(snapshot);
    ASSERT_NE(guest, nullptr);
    EXPECT_EQ(call(guest, "pages"), kSavedPages);
    for (int32_t page = 0; page < kSavedPages; ++page)
      ASSERT_EQ(load(guest, page), markerOf(page, 1));
    // Grown to the limit after the restore: the snapshot's pages stay where the restore mapped
    // them (the memory did not move) and keep their bytes.
    const uint8_t* base = instanceOf(guest).memory().data();
    ASSERT_EQ(call(guest, "grow", {wasmtime::Val(kLimitPages - kSavedPages)}), kSavedPages);
    EXPECT_EQ(instanceOf(guest).memory().data(), base);
    EXPECT_EQ(call(guest, "grow", {wasmtime::Val(1)}), -1);
    for (int32_t page = 0; page < kSavedPages; ++page)
      ASSERT_EQ(load(guest, page), markerOf(page, 1));
    store(guest, 3, 2);  // one saved page changed, every new page written
    for (int32_t page = kSavedPages; page < kLimitPages; ++page) store(guest, page, 2);
    auto saved = guest->saveTo(snapshot, /*restoredFromChain=*/true);
    ASSERT_TRUE(saved) << saved.status().toString();
    EXPECT_FALSE(saved->full);  // a delta over the restored chain
  }
  auto guest = restore(snapshot);
  ASSERT_NE(guest, nullptr);
  EXPECT_EQ(call(guest, "pages"), kLimitPages);
  for (int32_t page = 0; page < kLimitPages; ++page) {
    const int32_t version = page == 3 || page >= kSavedPages ? 2 : 1;
    ASSERT_EQ(load(guest, page), markerOf(page, version)) << "page " << page;
  }
}

INSTANTIATE_TEST_SUITE_P(Reservations, WasmGuestRestoreTest,
                         ::testing::Values(uint64_t{0}, 8 * kMiB),
                         [](const ::testing::TestParamInfo<uint64_t>& info) {
                           return info.param == 0 ? std::string("WasmtimeDefault")
                                                  : std::to_string(info.param >> 20) + "MiB";
                         });

// What the memory budget counts for code: its share of the image (over every holder of the
// module), nothing once released for a swap-out, its share again after a reload.
TEST(WasmGuestFactoryCode, ResidentCodeIsTheFactorysShareOfTheImageUntilReleased) {
  wasm::Engine engine;
  auto bytes = wasmtime::wat2wasm(kMemoryGuest);
  ASSERT_TRUE(bytes);
  auto module = wasm::GuestModule::compile(engine, bytes.unwrap(), "memory.wat");
  ASSERT_TRUE(module) << module.status().toString();
  auto linker = wasm::GuestLinker::create(engine);
  ASSERT_TRUE(linker);
  auto prepared = (*linker)->prepare(*module);
  ASSERT_TRUE(prepared);
  const uint64_t image = module->imageBytes();
  ASSERT_GT(image, 0u);
  auto reload = [prepared = *prepared]() -> common::Result<wasm::PreparedModule> {
    return prepared;
  };
  WasmGuestFactory factory(engine, *prepared, {.maxMemoryBytes = 8 * kMiB}, "memory", reload);
  // Shared by module, prepared, the reload's copies and the factory.
  ASSERT_GE(module->imageHolders(), 4);
  EXPECT_EQ(factory.residentCodeBytes(), image / static_cast<uint64_t>(module->imageHolders()));
  factory.releaseCode({});
  EXPECT_EQ(factory.residentCodeBytes(), 0u);
  bench::testing::FakeServices services;
  ASSERT_TRUE(factory.create(services));
  EXPECT_GT(factory.residentCodeBytes(), 0u);
}

// Pages of [data, data + bytes) mapped in this process now (present in its page table).
uint64_t presentPages(std::span<const uint8_t> range) {
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  const uint64_t first = reinterpret_cast<uintptr_t>(range.data()) / 4096;
  const uint64_t last = (reinterpret_cast<uintptr_t>(range.data()) + range.size() - 1) / 4096;
  uint64_t present = 0;
  for (uint64_t page = first; page <= last; ++page) {
    uint64_t entry = 0;
    if (::pread(fd, &entry, 8, static_cast<off_t>(page * 8)) == 8 && (entry >> 63) != 0) present++;
  }
  ::close(fd);
  return present;
}

// A swapped-out operator's module parked in the cache: its mapping stays (the next restore
// skips mapping the artifact again) but its code pages, clean copies of the artifact's, are
// given back, and run again after the reload.
TEST(WasmGuestFactoryCode, AParkedModuleGivesItsCleanCodePagesBackAndRunsAfterTheReload) {
  wop::testing::TempDir temp;
  wasm::Engine engine;
  auto bytes = wasmtime::wat2wasm(kMemoryGuest);
  ASSERT_TRUE(bytes);
  const auto wasm = bytes.unwrap();
  const std::string path = temp.file("memory.wasm");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(wasm.data()), static_cast<std::streamsize>(wasm.size()));
  {
    wasm::ModuleCache compiling(engine, temp.file("artifacts"));
    auto compiled = compiling.load(path, {});
    ASSERT_TRUE(compiled) << compiled.status().toString();
  }
  wasm::ModuleCache cache(engine, temp.file("artifacts"));  // maps the artifact from its file
  auto linker = wasm::GuestLinker::create(engine);
  ASSERT_TRUE(linker);
  std::string identity;
  std::span<const uint8_t> image;
  std::optional<wasm::PreparedModule> prepared;
  {
    auto module = cache.load(path, {});
    ASSERT_TRUE(module) << module.status().toString();
    ASSERT_EQ(cache.counters().loadedFromDisk, 1u);
    identity = module->identity();
    image = module->image();
    auto made = (*linker)->prepare(*module);
    ASSERT_TRUE(made);
    prepared.emplace(std::move(*made));
  }
  auto reload = [&]() -> common::Result<wasm::PreparedModule> {
    auto module = cache.reload(identity, "memory");
    if (!module) return module.status();
    return (*linker)->prepare(*module);
  };
  auto park = [&](const wasm::GuestModule& module, const common::WakeGuess& dueBack) {
    return cache.park(identity, module, dueBack);
  };
  WasmGuestFactory factory(engine, std::move(*prepared), {.maxMemoryBytes = 8 * kMiB}, "memory",
                           reload, park);
  prepared.reset();
  bench::testing::FakeServices services;
  auto run = [&] {
    auto guest = factory.create(services);
    ASSERT_TRUE(guest) << guest.status().toString();
    auto& instance = static_cast<WasmOperatorGuest&>(**guest).instance();
    ASSERT_TRUE(instance.enter("store", {wasmtime::Val(8), wasmtime::Val(42)}));
    auto loaded = instance.enter("load", {wasmtime::Val(8)});
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->front().i32(), 42);
  };
  run();
  ASSERT_GT(presentPages(image), 0u);

  factory.releaseCode({});

  EXPECT_EQ(cache.parked(), 1u);
  EXPECT_EQ(factory.residentCodeBytes(), 0u);
  EXPECT_EQ(presentPages(image), 0u);
  run();
  EXPECT_EQ(cache.counters().loadedFromDisk, 1u);  // the parked module, not the artifact again
  EXPECT_GT(presentPages(image), 0u);
  // Unparked as it is taken back: the budget sees this operator hold the whole image again.
  EXPECT_EQ(cache.parked(), 0u);
  EXPECT_EQ(factory.residentCodeBytes(), image.size());
  factory.releaseCode({});  // a reloaded module this time: parked and given back the same way
  EXPECT_EQ(cache.parked(), 1u);
  EXPECT_EQ(presentPages(image), 0u);

  // Two operators of one module: the first to let go does not park it (the other runs it and
  // holds the whole image), the last one does.
  run();
  auto again = reload();
  ASSERT_TRUE(again);
  WasmGuestFactory other(engine, std::move(*again), {.maxMemoryBytes = 8 * kMiB}, "other", reload,
                         park);
  factory.releaseCode({});
  EXPECT_EQ(cache.parked(), 0u);
  EXPECT_EQ(other.residentCodeBytes(), image.size());
  EXPECT_GT(presentPages(image), 0u);
  other.releaseCode({});
  EXPECT_EQ(cache.parked(), 1u);
  EXPECT_EQ(presentPages(image), 0u);
}

}  // namespace
}  // namespace wop::runtime
