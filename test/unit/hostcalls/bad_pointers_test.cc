// Every host function of ABI v1, called by a guest with ranges outside its memory (past the
// end, and wrapping around 2^32): the call returns WOP_ERR_OUT_OF_BOUNDS (wop_log returns
// nothing), the runtime hears of the broken contract, and no service is asked to act on it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>
#include <wasmtime.hh>

#include "hostcalls/abi_v1.h"
#include "hostcalls/operator_services.h"
#include "wasm/guest_instance.h"
#include "wasm/guest_linker.h"

namespace wop::hostcalls {
namespace {

using ::testing::HasSubstr;

// Records what reaches the runtime: a service asked to act means a bad range got through.
class RecordingServices final : public OperatorServices {
 public:
  void log(int32_t, std::string_view) override { acted.push_back("log"); }
  std::string config() override { return R"({"a":1})"; }
  HostResult<int32_t> declare(std::string_view) override {
    acted.push_back("declare");
    return 0;
  }
  HostResult<std::string> cacheRead(std::string_view) override { return std::string("{}"); }
  HostResult<uint32_t> apiCall(std::string_view) override {
    acted.push_back("api_call");
    return 1u;
  }
  HostResult<uint32_t> httpCall(std::string_view) override {
    acted.push_back("http_call");
    return 2u;
  }
  HostResult<int32_t> reconcileDone(uint32_t, int32_t, int64_t, std::string_view) override {
    acted.push_back("reconcile_done");
    return WOP_OK;
  }
  HostResult<int32_t> emitKey(std::string_view) override {
    acted.push_back("emit_key");
    return WOP_OK;
  }
  void contractViolation(std::string what) override { violations.push_back(std::move(what)); }

  std::vector<std::string> acted;
  std::vector<std::string> violations;
};

// One page of memory (65536 bytes). Each export passes its (ptr, len) arguments on to one host
// function; a good request sits at 16. Functions that write a result get their two result
// slots at the first and the last 4 bytes of the range.
constexpr const char* kGuest = R"wat((module
  (import "wop" "log" (func $log (param i32 i32 i32)))
  (import "wop" "config_get" (func $config_get (param i32 i32) (result i32)))
  (import "wop" "declare" (func $declare (param i32 i32) (result i32)))
  (import "wop" "cache_read" (func $cache_read (param i32 i32 i32 i32) (result i32)))
  (import "wop" "api_call" (func $api_call (param i32 i32) (result i32)))
  (import "wop" "http_call" (func $http_call (param i32 i32) (result i32)))
  (import "wop" "reconcile_done" (func $reconcile_done (param i32 i32 i64 i32 i32) (result i32)))
  (import "wop" "emit_key" (func $emit_key (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}")
  (func (export "wop_alloc") (param i32) (result i32) i32.const 4096)
  (func (export "log") (param i32 i32) (result i32)
    i32.const 1 local.get 0 local.get 1 call $log i32.const 0)
  (func (export "config_get") (param i32 i32) (result i32)
    local.get 0 local.get 0 local.get 1 i32.add i32.const 4 i32.sub call $config_get)
  (func (export "declare") (param i32 i32) (result i32) local.get 0 local.get 1 call $declare)
  (func (export "cache_read_request") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.const 256 i32.const 260 call $cache_read)
  (func (export "cache_read_result") (param i32 i32) (result i32)
    i32.const 16 i32.const 38
    local.get 0 local.get 0 local.get 1 i32.add i32.const 4 i32.sub call $cache_read)
  (func (export "api_call") (param i32 i32) (result i32) local.get 0 local.get 1 call $api_call)
  (func (export "http_call") (param i32 i32) (result i32) local.get 0 local.get 1 call $http_call)
  (func (export "reconcile_done") (param i32 i32) (result i32)
    i32.const 1 i32.const 2 i64.const 0 local.get 0 local.get 1 call $reconcile_done)
  (func (export "emit_key") (param i32 i32) (result i32) local.get 0 local.get 1 call $emit_key)))wat";

struct BadRange {
  const char* name;
  uint32_t ptr;
  uint32_t len;
};

// Past the end; straddling the end; wrapping around 2^32 (ptr + len overflows to a small value).
constexpr BadRange kBadRanges[] = {
    {"past the end", 0x10000, 8},
    {"straddling the end", 0xfff0, 0x20},
    {"wrapping around", 0xfffffff0u, 0x20},
};

class BadPointersTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    auto linker = wasm::GuestLinker::create(engine_, defineAbiV1);
    ASSERT_TRUE(linker) << linker.status().toString();
    auto bytes = wasmtime::wat2wasm(kGuest);
    ASSERT_TRUE(bytes) << bytes.err().message();
    wasm::ModuleRequirements requirements;
    requirements.providesImport = abiV1Requirements(0).providesImport;
    auto module = wasm::GuestModule::compile(engine_, bytes.unwrap(), "bad-pointers", requirements);
    ASSERT_TRUE(module) << module.status().toString();
    auto prepared = (*linker)->prepare(*module);
    ASSERT_TRUE(prepared) << prepared.status().toString();
    auto instance = wasm::GuestInstance::create(engine_, *prepared, {},
                                                static_cast<OperatorServices*>(&services_));
    ASSERT_TRUE(instance) << instance.status().toString();
    instance_.emplace(std::move(*instance));
  }

  int32_t call(const char* name, uint32_t ptr, uint32_t len) {
    auto result = instance_->enter(
        name, {wasmtime::Val(static_cast<int32_t>(ptr)), wasmtime::Val(static_cast<int32_t>(len))});
    EXPECT_TRUE(result) << name << ": " << result.status().toString();
    return result ? result->at(0).i32() : 0;
  }

  wasm::Engine engine_;
  RecordingServices services_;
  std::optional<wasm::GuestInstance> instance_;
};

TEST_P(BadPointersTest, EveryBadRangeIsRefusedAsABrokenContract) {
  const char* function = GetParam();
  const bool returnsStatus = std::string(function) != "log";
  for (const auto& range : kBadRanges) {
    SCOPED_TRACE(range.name);
    services_.violations.clear();
    const int32_t status = call(function, range.ptr, range.len);
    if (returnsStatus) EXPECT_EQ(status, WOP_ERR_OUT_OF_BOUNDS);
    ASSERT_EQ(services_.violations.size(), 1u);
    EXPECT_THAT(services_.violations[0], HasSubstr("outside"));
  }
  EXPECT_TRUE(services_.acted.empty()) << "a service acted on a bad range: " << services_.acted[0];
}

INSTANTIATE_TEST_SUITE_P(EveryHostFunction, BadPointersTest,
                         ::testing::Values("log", "config_get", "declare", "cache_read_request",
                                           "cache_read_result", "api_call", "http_call",
                                           "reconcile_done", "emit_key"));

TEST_F(BadPointersTest, AGoodRangeStillWorksAfterBadOnes) {
  ASSERT_EQ(call("config_get", 0x10000, 8), WOP_ERR_OUT_OF_BOUNDS);
  EXPECT_EQ(call("config_get", 256, 8), WOP_OK);
  EXPECT_EQ(call("api_call", 16, 38), 1);
  EXPECT_EQ(call("http_call", 16, 38), 2);
}

}  // namespace
}  // namespace wop::hostcalls
