#include "wasm/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "wasm/guest_instance.h"
#include "wasm/memory_guest.h"
#include "wat_test_support.h"

namespace wop::wasm {
namespace {

using common::StatusCode;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1u << 20;
constexpr uint64_t kWasmPage = 64u << 10;

using test::kMemoryGuest;

// VmSize of this process in bytes.
uint64_t virtualMemoryBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  }
  return 0;
}

common::Result<GuestInstance> instantiate(Engine& engine, uint64_t limitBytes) {
  auto module = compileWat(engine, kMemoryGuest);
  if (!module) return module.status();
  return GuestInstance::create(engine, *module, {.maxMemoryBytes = limitBytes});
}

int32_t call(GuestInstance& instance, const char* name, std::vector<wasmtime::Val> args = {}) {
  auto results = instance.enter(name, args);
  EXPECT_TRUE(results) << results.status().toString();
  return results && !results->empty() ? results->front().i32() : -2;
}

common::Status tryStore(GuestInstance& instance, uint32_t address, int32_t value) {
  auto results =
      instance.enter("store", {wasmtime::Val(static_cast<int32_t>(address)), wasmtime::Val(value)});
  return results ? common::Status::ok() : results.status();
}

TEST(EngineTest, TheFingerprintNamesTheReservation) {
  Engine wasmtimeDefault;
  Engine small({.memoryReservationBytes = 64 * kMiB});
  Engine larger({.memoryReservationBytes = 256 * kMiB});
  Engine whole({.memoryReservationBytes = 4096 * kMiB});  // the same as Wasmtime's default
  EXPECT_NE(wasmtimeDefault.fingerprint(), small.fingerprint());
  EXPECT_NE(small.fingerprint(), larger.fingerprint());
  EXPECT_EQ(wasmtimeDefault.fingerprint(), whole.fingerprint());
  EXPECT_FALSE(wasmtimeDefault.explicitBoundsChecks());
  EXPECT_TRUE(small.explicitBoundsChecks());
  EXPECT_EQ(small.memoryReservation(), 64 * kMiB);
  EXPECT_EQ(wasmtimeDefault.memoryReservation(), 4096 * kMiB);
}

TEST(EngineTest, TheReservationIsRoundedUpToAWasmPage) {
  Engine engine({.memoryReservationBytes = kMiB + 1});
  EXPECT_EQ(engine.memoryReservation(), kMiB + kWasmPage);
}

// What each instance's memory takes of the address space, as the kernel counts it: the
// setting reached Wasmtime.
TEST(EngineTest, AnInstanceReservesWhatTheEngineSays) {
  Engine small({.memoryReservationBytes = 64 * kMiB});
  auto warm = instantiate(small, 64 * kMiB);  // first-use allocations out of the measurement
  ASSERT_TRUE(warm) << warm.status().toString();
  const uint64_t before = virtualMemoryBytes();
  auto instance = instantiate(small, 64 * kMiB);
  ASSERT_TRUE(instance) << instance.status().toString();
  const uint64_t grew = virtualMemoryBytes() - before;
  EXPECT_GE(grew, 64 * kMiB);
  EXPECT_LT(grew, 64 * kMiB + 2 * kSmallGuardBytes + 8 * kMiB);  // slack: heap, image

  Engine wasmtimeDefault;
  auto warmDefault = instantiate(wasmtimeDefault, 64 * kMiB);
  ASSERT_TRUE(warmDefault);
  const uint64_t beforeDefault = virtualMemoryBytes();
  auto instanceDefault = instantiate(wasmtimeDefault, 64 * kMiB);
  ASSERT_TRUE(instanceDefault);
  EXPECT_GE(virtualMemoryBytes() - beforeDefault, 4096 * kMiB);
}

TEST(EngineTest, AGuestGrowsToItsLimitAndUsesEveryByte) {
  for (const uint64_t limit : {8 * kMiB, 6 * kMiB}) {  // at the reservation, below it
    SCOPED_TRACE(limit);
    Engine engine({.memoryReservationBytes = 8 * kMiB});
    auto instance = instantiate(engine, limit);
    ASSERT_TRUE(instance) << instance.status().toString();
    const auto pages = static_cast<int32_t>(limit / kWasmPage);
    EXPECT_EQ(call(*instance, "grow", {wasmtime::Val(pages - 1)}), 1);
    EXPECT_EQ(call(*instance, "pages"), pages);
    const auto last = static_cast<uint32_t>(limit - 4);
    ASSERT_TRUE(tryStore(*instance, last, 0x5eed).isOk());
    EXPECT_EQ(call(*instance, "load", {wasmtime::Val(static_cast<int32_t>(last))}), 0x5eed);
    // Past the limit (and, for the first, past the reservation): memory.grow says -1.
    EXPECT_EQ(call(*instance, "grow", {wasmtime::Val(1)}), -1);
    EXPECT_EQ(call(*instance, "pages"), pages);
  }
}

TEST(EngineTest, AccessesPastTheMemoryTrapWithExplicitBoundsChecks) {
  Engine engine({.memoryReservationBytes = 8 * kMiB});
  auto instance = instantiate(engine, 8 * kMiB);
  ASSERT_TRUE(instance);
  // Inside the reservation but past the memory's one page; at the reservation; far past it.
  for (const uint64_t address : {kWasmPage, 8 * kMiB - 2, 8 * kMiB, uint64_t{0xfffffff0}}) {
    SCOPED_TRACE(address);
    auto stored = tryStore(*instance, static_cast<uint32_t>(address), 1);
    ASSERT_FALSE(stored.isOk());
    EXPECT_THAT(stored.message(), HasSubstr("out of bounds"));
  }
  ASSERT_TRUE(tryStore(*instance, static_cast<uint32_t>(kWasmPage - 4), 7)
                  .isOk());  // the instance still works
}

TEST(EngineTest, ALimitAboveTheReservationIsRefusedNamingTheFlag) {
  Engine engine({.memoryReservationBytes = 8 * kMiB});
  EXPECT_TRUE(engine.checkMemoryLimit(8 * kMiB).isOk());
  auto refused = engine.checkMemoryLimit(9 * kMiB);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("9 MiB"));
  EXPECT_THAT(refused.message(), HasSubstr("--guest-memory-reservation-mib"));

  auto instance = instantiate(engine, 9 * kMiB);
  ASSERT_FALSE(instance);
  EXPECT_THAT(instance.status().message(), HasSubstr("above the guest memory reservation"));

  Engine wasmtimeDefault;
  EXPECT_TRUE(wasmtimeDefault.checkMemoryLimit(4096 * kMiB).isOk());
}

}  // namespace
}  // namespace wop::wasm
