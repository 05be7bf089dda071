// The host functions' error boundary with the real ABI v1 definitions: an exception in the
// runtime's side of a host call traps the calling guest with the host function's name and the
// reason, and the instance serves the next entry as if nothing happened.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <wasmtime.hh>

#include "hostcalls/abi_v1.h"
#include "hostcalls/operator_services.h"
#include "wasm/guest_instance.h"
#include "wasm/guest_linker.h"

namespace wop::hostcalls {
namespace {

using ::testing::HasSubstr;

// Parses what it is given as JSON the way the runtime does (nlohmann throws on bad input);
// a log line "oom" throws bad_alloc.
class ThrowingServices final : public OperatorServices {
 public:
  void log(int32_t, std::string_view message) override {
    if (message == "oom") throw std::bad_alloc();
    logs.emplace_back(message);
  }
  std::string config() override { return "{}"; }
  HostResult<int32_t> declare(std::string_view) override { return 1; }
  HostResult<std::string> cacheRead(std::string_view) override { return std::string("{}"); }
  HostResult<uint32_t> apiCall(std::string_view request) override {
    return nlohmann::json::parse(request).at("token").get<uint32_t>();
  }
  HostResult<int32_t> reconcileDone(uint32_t, int32_t, int64_t, std::string_view) override {
    return WOP_OK;
  }
  HostResult<int32_t> emitKey(std::string_view) override { return WOP_OK; }
  void contractViolation(std::string what) override { violations.push_back(std::move(what)); }

  std::vector<std::string> logs;
  std::vector<std::string> violations;
};

// Exports "api" and "log" taking (ptr, len) of the text to pass on; the texts are data.
constexpr const char* kGuest = R"wat((module
  (import "wop" "api_call" (func $api_call (param i32 i32) (result i32)))
  (import "wop" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{\"token\": 7}")
  (data (i32.const 64) "{\"token\": ")
  (data (i32.const 96) "oom")
  (data (i32.const 128) "fine")
  (func (export "wop_alloc") (param i32) (result i32) i32.const 1024)
  (func (export "api") (param i32 i32) (result i32) local.get 0 local.get 1 call $api_call)
  (func (export "log") (param i32 i32) i32.const 1 local.get 0 local.get 1 call $log)))wat";

class HostCallErrorBoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto linker = wasm::GuestLinker::create(engine_, defineAbiV1);
    ASSERT_TRUE(linker) << linker.status().toString();
    auto bytes = wasmtime::wat2wasm(kGuest);
    ASSERT_TRUE(bytes) << bytes.err().message();
    wasm::ModuleRequirements requirements;
    requirements.providesImport = abiV1Requirements(0).providesImport;
    auto module = wasm::GuestModule::compile(engine_, bytes.unwrap(), "boundary", requirements);
    ASSERT_TRUE(module) << module.status().toString();
    auto prepared = (*linker)->prepare(*module);
    ASSERT_TRUE(prepared) << prepared.status().toString();
    auto instance = wasm::GuestInstance::create(engine_, *prepared, {},
                                                static_cast<OperatorServices*>(&services_));
    ASSERT_TRUE(instance) << instance.status().toString();
    instance_.emplace(std::move(*instance));
  }

  common::Result<std::vector<wasmtime::Val>> enter(const char* name, int32_t ptr, int32_t len) {
    return instance_->enter(name, {wasmtime::Val(ptr), wasmtime::Val(len)});
  }

  wasm::Engine engine_;
  ThrowingServices services_;
  std::optional<wasm::GuestInstance> instance_;
};

TEST_F(HostCallErrorBoundaryTest, AThrowingServiceFailsTheEntryWithTheHostFunctionAndTheReason) {
  auto failed = enter("api", 64, 10);  // "{"token": " is cut short
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.status().code(), common::StatusCode::kAborted);  // a trap, as any other
  EXPECT_THAT(failed.status().message(), HasSubstr("wop_api_call: [json.exception.parse_error"));
  EXPECT_TRUE(services_.violations.empty());
}

TEST_F(HostCallErrorBoundaryTest, OutOfMemoryInAHostCallIsNamed) {
  auto failed = enter("log", 96, 3);
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.status().message(), HasSubstr("wop_log: out of memory"));
}

TEST_F(HostCallErrorBoundaryTest, TheInstanceServesTheNextEntryAfterAThrow) {
  ASSERT_FALSE(enter("api", 64, 10));
  ASSERT_FALSE(enter("log", 96, 3));

  auto token = enter("api", 16, 12);
  ASSERT_TRUE(token) << token.status().toString();
  EXPECT_EQ(token->at(0).i32(), 7);
  ASSERT_TRUE(enter("log", 128, 4));
  EXPECT_THAT(services_.logs, ::testing::ElementsAre("fine"));
}

}  // namespace
}  // namespace wop::hostcalls
