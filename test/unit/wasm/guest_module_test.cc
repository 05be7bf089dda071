#include "wasm/guest_module.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "common/limits.h"
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

namespace wop::wasm {
namespace {

using ::testing::HasSubstr;

ModuleRequirements abiRequirements() {
  ModuleRequirements requirements;
  requirements.abiMarker = "wop_abi_version_1";
  requirements.abiMarkerPrefix = "wop_abi_version_";
  requirements.requiredExports = {"wop_init"};
  return requirements;
}

std::vector<uint8_t> watBytes(std::string_view text) {
  auto bytes = wasmtime::wat2wasm(text);
  EXPECT_TRUE(bytes) << bytes.err().message();
  return bytes ? bytes.unwrap() : std::vector<uint8_t>{};
}

std::string refusal(std::string_view wat) {
  Engine engine;
  auto module = GuestModule::compile(engine, watBytes(wat), "m.wasm", abiRequirements());
  return module ? "(accepted)" : module.status().message();
}

// `functions` empty functions of type [] -> [], with an exported memory; bodyBytes pads the
// first body with nops.
std::vector<uint8_t> manyFunctions(uint32_t functions, size_t bodyBytes = 2) {
  auto leb = [](std::vector<uint8_t>& out, uint64_t value) {
    do {
      uint8_t byte = value & 0x7f;
      value >>= 7;
      out.push_back(byte | (value ? 0x80 : 0));
    } while (value);
  };
  auto section = [&](std::vector<uint8_t>& out, uint8_t id, const std::vector<uint8_t>& body) {
    out.push_back(id);
    leb(out, body.size());
    out.insert(out.end(), body.begin(), body.end());
  };
  std::vector<uint8_t> out = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  section(out, 1, {0x01, 0x60, 0x00, 0x00});
  std::vector<uint8_t> declared;
  leb(declared, functions);
  declared.insert(declared.end(), functions, 0x00);
  section(out, 3, declared);
  section(out, 5, {0x01, 0x00, 0x01});
  section(out, 7, {0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00});
  std::vector<uint8_t> code;
  leb(code, functions);
  for (uint32_t i = 0; i < functions; ++i) {
    const size_t size = i == 0 ? bodyBytes : 2;
    leb(code, size);
    code.push_back(0x00);                     // no locals
    code.insert(code.end(), size - 2, 0x01);  // nop
    code.push_back(0x0b);
  }
  section(out, 10, code);
  return out;
}

TEST(GuestModuleRequirements, RefuseAnAbiMarkerThatIsNotAFunction) {
  EXPECT_EQ(refusal(R"((module (memory (export "memory") 1)
                  (global (export "wop_abi_version_1") i32 (i32.const 1))
                  (func (export "wop_init"))))"),
            "loading module m.wasm: exports wop_abi_version_1 as a global, not a function");
}

TEST(GuestModuleRequirements, RefuseAMemoryExportThatIsNotAMemory) {
  EXPECT_THAT(refusal(R"((module (memory 1) (global (export "memory") i32 (i32.const 0))
                  (func (export "wop_abi_version_1")) (func (export "wop_init"))))"),
              HasSubstr("exports memory as a global, not a memory"));
}

TEST(GuestModuleRequirements, RefuseARequiredExportOfAnotherKind) {
  EXPECT_THAT(refusal(R"((module (memory (export "memory") 1) (func (export "wop_abi_version_1"))
                  (global (export "wop_init") i32 (i32.const 0))))"),
              HasSubstr("exports wop_init as a global, not a function"));
}

TEST(GuestModuleRequirements, RefuseASecondMemory) {
  EXPECT_THAT(refusal(R"((module (memory (export "memory") 1) (memory 1)
                  (func (export "wop_abi_version_1")) (func (export "wop_init"))))"),
              HasSubstr("has 2 memories; a guest gets 1"));
}

TEST(GuestModuleRequirements, RefuseImportsThatAreNotFunctions) {
  EXPECT_THAT(refusal(R"((module (import "wop" "t" (table 1 funcref)) (memory (export "memory") 1)
                  (func (export "wop_abi_version_1")) (func (export "wop_init"))))"),
              HasSubstr("imports a table wop.t; the host provides functions only"));
}

TEST(GuestModuleRequirements, RefuseATableThatStartsAboveTheLimit) {
  EXPECT_THAT(refusal(R"((module (table 200000 funcref) (memory (export "memory") 1)
                  (func (export "wop_abi_version_1")) (func (export "wop_init"))))"),
              HasSubstr("declares a table of 200000 elements, above the limit of 100000"));
}

TEST(GuestModuleRequirements, RefuseModulesThatAllocateOnAGcHeap) {
  EXPECT_THAT(refusal(R"((module (type $cell (struct (field i32)))
                  (memory (export "memory") 1) (func (export "wop_abi_version_1"))
                  (func (export "wop_init") (drop (struct.new $cell (i32.const 1))))))"),
              HasSubstr("invalid module"));
}

TEST(GuestModuleRequirements, RefuseTooManyFunctionsBeforeCompiling) {
  Engine engine;
  const auto start = std::chrono::steady_clock::now();
  auto module =
      GuestModule::compile(engine, manyFunctions(limits::kMaxModuleFunctions + 1), "many.wasm", {});
  ASSERT_FALSE(module);
  EXPECT_EQ(module.status().code(), common::StatusCode::kResourceExhausted);
  EXPECT_THAT(module.status().message(),
              HasSubstr("has 50001 functions, above the limit of 50000"));
  // Refused on its outline: compiling 50,001 functions takes seconds and hundreds of MiB.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_TRUE(GuestModule::compile(engine, manyFunctions(100), "few.wasm", {}));
}

TEST(GuestModuleRequirements, RefuseTooMuchCodeBeforeCompiling) {
  Engine engine;
  auto module = GuestModule::compile(engine, manyFunctions(1, limits::kMaxModuleCodeBytes + 1),
                                     "big.wasm", {});
  ASSERT_FALSE(module);
  EXPECT_THAT(module.status().message(), HasSubstr("bytes of code, above the limit of"));
}

}  // namespace
}  // namespace wop::wasm
