#include "wasm/guest_instance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/limits.h"
#include "wat_test_support.h"

namespace wop::wasm {
namespace {

using common::StatusCode;
using ::testing::HasSubstr;

constexpr const char* kConfigMap = R"({
  "apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "settings", "namespace": "default", "labels": {"app": "demo"}},
  "data": {"mode": "fast", "unicode": "gr\u00fc\u00dfe"}
})";

class GuestInstanceTest : public ::testing::Test {
 protected:
  common::Result<GuestInstance> instantiateWat(std::string_view wat, InstanceLimits limits = {}) {
    auto module = compileWat(engine_, wat);
    if (!module) return module.status();
    return GuestInstance::create(engine_, *module, limits);
  }

  Engine engine_;
};

TEST_F(GuestInstanceTest, SampleGuestRoundTripsAKubernetesObject) {
  auto module = GuestModule::compileFile(engine_, WOP_JSON_ROUNDTRIP_WASM);
  ASSERT_TRUE(module) << module.status().toString();
  auto instance = GuestInstance::create(engine_, *module, {});
  ASSERT_TRUE(instance) << instance.status().toString();

  auto output = instance->callWithBytes("roundtrip", kConfigMap);
  ASSERT_TRUE(output) << output.status().toString();

  auto expected = nlohmann::json::parse(kConfigMap);
  expected["metadata"]["annotations"]["wasm-operator.dev/seen-by"] = "json-roundtrip";
  EXPECT_EQ(nlohmann::json::parse(*output), expected);
}

TEST_F(GuestInstanceTest, SampleGuestKeepsWorkingAcrossManyCalls) {
  auto module = GuestModule::compileFile(engine_, WOP_JSON_ROUNDTRIP_WASM);
  ASSERT_TRUE(module);
  auto instance = GuestInstance::create(engine_, *module, {});
  ASSERT_TRUE(instance);
  for (int i = 0; i < 200; ++i) {
    auto output = instance->callWithBytes("roundtrip", kConfigMap);
    ASSERT_TRUE(output) << "call " << i << ": " << output.status().toString();
  }
}

TEST_F(GuestInstanceTest, SampleGuestRejectsMalformedJsonWithItsReason) {
  auto module = GuestModule::compileFile(engine_, WOP_JSON_ROUNDTRIP_WASM);
  ASSERT_TRUE(module);
  auto instance = GuestInstance::create(engine_, *module, {});
  ASSERT_TRUE(instance);
  auto output = instance->callWithBytes("roundtrip", R"({"apiVersion": "v1", "kind": )");
  ASSERT_FALSE(output);
  EXPECT_THAT(output.status().message(), HasSubstr("input is not valid JSON"));

  auto noName =
      instance->callWithBytes("roundtrip", R"({"apiVersion":"v1","kind":"Pod","metadata":{}})");
  ASSERT_FALSE(noName);
  EXPECT_THAT(noName.status().message(), HasSubstr("no metadata.name"));
}

TEST_F(GuestInstanceTest, AnInfiniteLoopHitsTheTimeLimit) {
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (func (export "wop_alloc") (param i32) (result i32) i32.const 1024)
      (func (export "spin") (param i32 i32) (result i64) (loop br 0) i64.const 0)))",
                                 {.maxEntryTime = std::chrono::milliseconds(50)});
  ASSERT_TRUE(instance) << instance.status().toString();
  const auto started = std::chrono::steady_clock::now();
  auto output = instance->callWithBytes("spin", "x");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(output);
  EXPECT_EQ(output.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(output.status().message(), HasSubstr("exceeded its time limit of 50 ms"));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(GuestInstanceTest, AnInfiniteLoopInTheInitialiserFailsInstantiation) {
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (func (export "_initialize") (loop br 0))))",
                                 {.maxEntryTime = std::chrono::milliseconds(50)});
  ASSERT_FALSE(instance);
  EXPECT_EQ(instance.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(GuestInstanceTest, MemoryGrowthStopsAtTheCap) {
  // Grows by one page (64 KiB) until memory.grow fails, then returns the page count.
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (func (export "wop_alloc") (param i32) (result i32) i32.const 1024)
      (func (export "grow") (param i32 i32) (result i64)
        (loop $again
          (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then (br $again))))
        (i64.extend_i32_u (memory.size)))))",
                                 {.maxMemoryBytes = 2u << 20});
  ASSERT_TRUE(instance) << instance.status().toString();
  auto output = instance->callWithBytes("grow", "");
  // The packed result is (ptr << 32 | len) = pages; len = 32 pages = 2 MiB, read from ptr 0.
  ASSERT_TRUE(output) << output.status().toString();
  EXPECT_EQ(output->size(), 32u);
}

TEST_F(GuestInstanceTest, ADeclaredMemoryAboveTheCapFailsInstantiation) {
  auto instance =
      instantiateWat(R"((module (memory (export "memory") 64)))", {.maxMemoryBytes = 1u << 20});
  ASSERT_FALSE(instance);
  EXPECT_THAT(instance.status().message(), HasSubstr("instantiating test.wat"));
}

TEST_F(GuestInstanceTest, ATableGrowPastItsLimitReturnsMinusOneAtOnce) {
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (table $t 1 funcref)
      (func (export "grow") (param i32) (result i32)
        (table.grow $t (ref.null func) (local.get 0)))))");
  ASSERT_TRUE(instance) << instance.status().toString();
  auto grow = [&](uint32_t delta) {
    auto results = instance->enter("grow", {wasmtime::Val(static_cast<int32_t>(delta))});
    EXPECT_TRUE(results) << results.status().toString();
    return results ? results->front().i32() : 0;
  };
  // A table of 1 + 100,000 elements is one more than a guest may have.
  ASSERT_EQ(grow(limits::kMaxGuestTableElements), -1) << "tables are not limited";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(grow(0x80000000u), -1);  // 2^31 entries: 16 GiB of table, once the host's end
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  EXPECT_EQ(grow(limits::kMaxGuestTableElements - 1), 1) << "up to the limit, it grows";
  EXPECT_EQ(grow(1), -1);
}

TEST_F(GuestInstanceTest, AFailureOfInstantiationWithoutGuestCodeIsThatOfTheModule) {
  // A data segment past the end of memory: found only by instantiation, and on every try.
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (data (i32.const 70000) "past the end")))");
  ASSERT_FALSE(instance);
  EXPECT_EQ(instance.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(instance.status().message(),
              HasSubstr("instantiating test.wat: the module cannot be instantiated"));
  EXPECT_EQ(instance.status().message().find('\n'), std::string::npos);
}

TEST_F(GuestInstanceTest, ATrapInAStartFunctionIsTheGuestsLikeAnyTrap) {
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (func $start unreachable)
      (start $start)))");
  ASSERT_FALSE(instance);
  EXPECT_EQ(instance.status().code(), StatusCode::kAborted);
  EXPECT_THAT(instance.status().message(), HasSubstr("trapped"));
}

TEST_F(GuestInstanceTest, ATrapIsReportedWithItsReason) {
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (func (export "wop_alloc") (param i32) (result i32) i32.const 1024)
      (func (export "crash") (param i32 i32) (result i64) unreachable)))");
  ASSERT_TRUE(instance);
  auto output = instance->callWithBytes("crash", "x");
  ASSERT_FALSE(output);
  EXPECT_EQ(output.status().code(), StatusCode::kAborted);
  EXPECT_THAT(output.status().message(), HasSubstr("unreachable"));
}

TEST_F(GuestInstanceTest, AnOutputRangeOutsideMemoryIsRefused) {
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (func (export "wop_alloc") (param i32) (result i32) i32.const 1024)
      (func (export "lie") (param i32 i32) (result i64) i64.const 0x0000fff0_00001000)))");
  ASSERT_TRUE(instance);
  auto output = instance->callWithBytes("lie", "x");
  ASSERT_FALSE(output);
  EXPECT_THAT(output.status().message(), HasSubstr("outside its memory"));
}

// Exports are looked up once and remembered (GuestInstance::exportedFunc, GuestState::memory):
// a memory grown since stays the one the host reads, and a name the guest does not export is
// refused every time, not remembered as something else.
TEST_F(GuestInstanceTest, RememberedExportsFollowAGrownMemoryAndMissingOnesStayMissing) {
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (func (export "wop_alloc") (param $len i32) (result i32)
        (local $at i32)
        (drop (memory.grow (i32.const 1)))
        (local.set $at (i32.mul (i32.sub (memory.size) (i32.const 1)) (i32.const 65536)))
        local.get $at)
      (func (export "echo") (param $ptr i32) (param $len i32) (result i64)
        (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
                (i64.extend_i32_u (local.get $len))))))");
  ASSERT_TRUE(instance) << instance.status().toString();
  for (int call = 1; call <= 3; ++call) {
    auto output = instance->callWithBytes("echo", "call " + std::to_string(call));
    ASSERT_TRUE(output) << output.status().toString();
    EXPECT_EQ(*output, "call " + std::to_string(call));
    EXPECT_EQ(instance->memoryBytes(), static_cast<uint64_t>(call + 1) * 65536);
    auto missing = instance->enter("absent", {});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  }
}

TEST_F(GuestInstanceTest, AnAllocationOutsideMemoryIsRefused) {
  auto instance = instantiateWat(R"((module
      (memory (export "memory") 1)
      (func (export "wop_alloc") (param i32) (result i32) i32.const 65535)
      (func (export "f") (param i32 i32) (result i64) i64.const 0)))");
  ASSERT_TRUE(instance);
  auto output = instance->callWithBytes("f", "four");
  ASSERT_FALSE(output);
  EXPECT_THAT(output.status().message(), HasSubstr("wop_alloc returned a pointer outside"));
}

TEST_F(GuestInstanceTest, WasiWritesAreCapturedAndBadPointersGetAnError) {
  // fd_write with a valid iovec ("hi\n" at 100), then with an iovec pointing past memory:
  // the second must return EFAULT (21), not crash. The result packs both errnos.
  auto instance = instantiateWat(R"((module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 100) "hi\n")
      (func (export "wop_alloc") (param i32) (result i32) i32.const 1024)
      (func (export "write") (param i32 i32) (result i64)
        (i32.store (i32.const 8) (i32.const 100))
        (i32.store (i32.const 12) (i32.const 3))
        (i32.store (i32.const 16) (i32.const 65530))
        (i32.store (i32.const 20) (i32.const 100))
        (i64.or
          (i64.shl (i64.extend_i32_u (call $fd_write (i32.const 2) (i32.const 8) (i32.const 1) (i32.const 24))) (i64.const 32))
          (i64.extend_i32_u (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 24)))))))");
  ASSERT_TRUE(instance) << instance.status().toString();
  auto output = instance->callWithBytes("write", "");
  // ptr = errno of the good write (0), len = errno of the bad one (21): 21 bytes from 0.
  ASSERT_TRUE(output) << output.status().toString();
  EXPECT_EQ(output->size(), 21u);
  EXPECT_EQ(instance->state().output, "hi\n");
}

TEST_F(GuestInstanceTest, ProcExitIsATrapNamingTheCode) {
  auto instance = instantiateWat(R"((module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "wop_alloc") (param i32) (result i32) i32.const 1024)
      (func (export "quit") (param i32 i32) (result i64) (call $exit (i32.const 3)) i64.const 0)))");
  ASSERT_TRUE(instance);
  auto output = instance->callWithBytes("quit", "");
  ASSERT_FALSE(output);
  EXPECT_THAT(output.status().message(), HasSubstr("proc_exit(3)"));
}

}  // namespace
}  // namespace wop::wasm
