#include "wasm/guest_module.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "wat_test_support.h"

namespace wop::wasm {
namespace {

using common::StatusCode;
using ::testing::HasSubstr;

class GuestModuleTest : public ::testing::Test {
 protected:
  Engine engine_;
};

TEST_F(GuestModuleTest, RefusesBytesThatAreNotWasm) {
  std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  auto module = GuestModule::compile(engine_, text, "hello.txt");
  ASSERT_FALSE(module);
  EXPECT_EQ(module.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(module.status().message(), HasSubstr("hello.txt: not a WebAssembly module"));
}

TEST_F(GuestModuleTest, RefusesEmptyInput) {
  auto module = GuestModule::compile(engine_, {}, "empty.wasm");
  ASSERT_FALSE(module);
  EXPECT_THAT(module.status().message(), HasSubstr("not a WebAssembly module"));
}

TEST_F(GuestModuleTest, RefusesAComponent) {
  std::vector<uint8_t> component = {0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00};
  auto module = GuestModule::compile(engine_, component, "c.wasm");
  ASSERT_FALSE(module);
  EXPECT_THAT(module.status().message(), HasSubstr("not a core WebAssembly module"));
}

TEST_F(GuestModuleTest, RefusesATruncatedModule) {
  auto full = wasmtime::wat2wasm(R"((module (memory (export "memory") 1) (func (export "f"))))");
  ASSERT_TRUE(full);
  auto bytes = full.unwrap();
  bytes.resize(bytes.size() - 3);
  auto module = GuestModule::compile(engine_, bytes, "cut.wasm");
  ASSERT_FALSE(module);
  EXPECT_EQ(module.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(module.status().message(), HasSubstr("invalid module"));
}

TEST_F(GuestModuleTest, RefusesAnImportTheHostDoesNotProvide) {
  auto module = compileWat(engine_, R"((module
      (import "env" "open_socket" (func))
      (memory (export "memory") 1)))");
  ASSERT_FALSE(module);
  EXPECT_EQ(module.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(module.status().message(), HasSubstr("imports env.open_socket"));
}

TEST_F(GuestModuleTest, RefusesAWasiFunctionOutsideTheShim) {
  auto module = compileWat(engine_, R"((module
      (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (memory (export "memory") 1)))");
  ASSERT_FALSE(module);
  EXPECT_THAT(module.status().message(), HasSubstr("wasi_snapshot_preview1.path_open"));
}

TEST_F(GuestModuleTest, RefusesAModuleWithoutMemory) {
  auto module = compileWat(engine_, R"((module (func (export "f"))))");
  ASSERT_FALSE(module);
  EXPECT_THAT(module.status().message(), HasSubstr("exports no linear memory"));
}

TEST_F(GuestModuleTest, AcceptsTheSampleGuest) {
  auto module = GuestModule::compileFile(engine_, WOP_JSON_ROUNDTRIP_WASM);
  ASSERT_TRUE(module) << module.status().toString();
  EXPECT_TRUE(module->exportsFunction("roundtrip"));
  EXPECT_TRUE(module->exportsFunction("_initialize"));
  EXPECT_FALSE(module->exportsFunction("_start"));
}

TEST_F(GuestModuleTest, NamesAMissingFile) {
  auto module = GuestModule::compileFile(engine_, "/nonexistent/op.wasm");
  ASSERT_FALSE(module);
  EXPECT_EQ(module.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(module.status().message(), HasSubstr("/nonexistent/op.wasm"));
}

}  // namespace
}  // namespace wop::wasm

namespace wop::wasm {
namespace {

TEST(GuestModuleRequirements, RefuseAnInitialMemoryAboveTheCapAtLoad) {
  Engine engine;
  auto bytes = wasmtime::wat2wasm(R"((module (memory (export "memory") 64)))");
  ASSERT_TRUE(bytes);
  ModuleRequirements requirements;
  requirements.maxMemoryBytes = 1u << 20;
  auto module = GuestModule::compile(engine, bytes.unwrap(), "big.wasm", requirements);
  ASSERT_FALSE(module);
  EXPECT_EQ(module.status().code(), common::StatusCode::kResourceExhausted);
  EXPECT_THAT(module.status().message(),
              ::testing::HasSubstr("declares 4 MiB of initial memory, above its limit of 1 MiB"));
}

TEST(GuestModuleRequirements, NameTheMissingExport) {
  Engine engine;
  auto bytes = wasmtime::wat2wasm(
      R"((module (memory (export "memory") 1) (func (export "wop_abi_version_1"))))");
  ASSERT_TRUE(bytes);
  ModuleRequirements requirements;
  requirements.abiMarker = "wop_abi_version_1";
  requirements.requiredExports = {"wop_alloc"};
  auto module = GuestModule::compile(engine, bytes.unwrap(), "partial.wasm", requirements);
  ASSERT_FALSE(module);
  EXPECT_THAT(module.status().message(), ::testing::HasSubstr("does not export wop_alloc"));
}

}  // namespace
}  // namespace wop::wasm
