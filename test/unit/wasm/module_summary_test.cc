#include "wasm/module_summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string_view>
#include <vector>
#include <wasmtime.hh>

namespace wop::wasm {
namespace {

using common::StatusCode;
using ::testing::HasSubstr;

std::vector<uint8_t> wat(std::string_view text) {
  auto bytes = wasmtime::wat2wasm(text);
  EXPECT_TRUE(bytes) << bytes.err().message();
  return bytes ? bytes.unwrap() : std::vector<uint8_t>{};
}

TEST(ModuleSummary, ListsImportsAndExportsWithTheirKinds) {
  auto summary = summarizeModule(wat(R"((module
    (import "wop" "log" (func (param i32 i32 i32)))
    (import "env" "table" (table 2 10 funcref))
    (import "env" "g" (global i32))
    (memory (export "memory") 3 100)
    (memory 1)
    (table 5 externref)
    (global (export "version") i32 (i32.const 1))
    (func $f (export "f") nop)
    (func (export "g2") (param i32) local.get 0 drop)
    (start $f)))"));
  ASSERT_TRUE(summary) << summary.status().toString();
  ASSERT_EQ(summary->imports.size(), 3u);
  EXPECT_EQ(summary->imports[0].module, "wop");
  EXPECT_EQ(summary->imports[0].name, "log");
  EXPECT_EQ(summary->imports[0].kind, ExternKind::kFunction);
  EXPECT_EQ(summary->imports[1].kind, ExternKind::kTable);
  EXPECT_EQ(summary->imports[2].kind, ExternKind::kGlobal);
  ASSERT_EQ(summary->exports.size(), 4u);
  EXPECT_EQ(summary->exports[0].name, "memory");
  EXPECT_EQ(summary->exports[0].kind, ExternKind::kMemory);
  EXPECT_EQ(summary->exports[1].kind, ExternKind::kGlobal);
  EXPECT_EQ(summary->exports[2].kind, ExternKind::kFunction);
  EXPECT_EQ(summary->exports[2].index, 1u) << "after the imported function";
  EXPECT_EQ(summary->definedFunctions, 2u);
  EXPECT_GT(summary->codeBytes, 0u);
  ASSERT_EQ(summary->memories.size(), 2u);
  EXPECT_EQ(summary->memories[0].min, 3u);
  EXPECT_EQ(summary->memories[0].max, 100u);
  ASSERT_EQ(summary->tables.size(), 2u);
  EXPECT_EQ(summary->tables[0].min, 2u) << "the imported table first";
  EXPECT_EQ(summary->tables[1].min, 5u);
  EXPECT_FALSE(summary->tables[1].max);
  EXPECT_TRUE(summary->hasStartFunction);
}

TEST(ModuleSummary, AnEmptyModuleHasNothing) {
  auto summary = summarizeModule(wat("(module)"));
  ASSERT_TRUE(summary);
  EXPECT_TRUE(summary->imports.empty());
  EXPECT_EQ(summary->definedFunctions, 0u);
  EXPECT_FALSE(summary->hasStartFunction);
}

TEST(ModuleSummary, NamesWhatIsMalformed) {
  std::vector<uint8_t> notWasm = {'#', '!', '/', 'b', 'i', 'n', '/', 's'};
  EXPECT_THAT(summarizeModule(notWasm).status().message(), HasSubstr("not a core WebAssembly"));
  auto cut = wat(R"((module (func (export "f"))))");
  cut.resize(cut.size() - 2);
  EXPECT_EQ(summarizeModule(cut).status().code(), StatusCode::kInvalidArgument);
  // Function and code sections that disagree.
  std::vector<uint8_t> mismatch = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01,
                                   0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x01, 0x00};
  EXPECT_THAT(summarizeModule(mismatch).status().message(),
              HasSubstr("0 function bodies for 1 functions"));
  // Sections out of order (export before function).
  std::vector<uint8_t> misordered = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00,
                                     0x00, 0x07, 0x01, 0x00, 0x03, 0x01, 0x00};
  EXPECT_THAT(summarizeModule(misordered).status().message(), HasSubstr("order of section 3"));
}

TEST(ModuleSummary, RefusesTablesItCannotRead) {
  // A table of typed function references: (ref null 0) is 0x63 0x00.
  std::vector<uint8_t> typed = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00,
                                0x00, 0x04, 0x04, 0x01, 0x63, 0x00, 0x00};
  auto summary = summarizeModule(typed);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(summary.status().message(), HasSubstr("unsupported table type 0x63"));
}

TEST(ModuleSummary, SurvivesTruncatedAndCorruptedModules) {
  const auto module = wat(R"((module
    (import "wop" "log" (func (param i32 i32 i32)))
    (memory (export "memory") 1)
    (table 1 funcref)
    (func (export "f") i32.const 1 drop)
    (data (i32.const 0) "abc")))");
  std::span<const uint8_t> all(module);
  for (size_t length = 0; length < module.size(); ++length)
    (void)summarizeModule(all.first(length));
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    auto corrupted = module;
    corrupted[8 + random() % (corrupted.size() - 8)] = static_cast<uint8_t>(random());
    auto summary = summarizeModule(corrupted);
    if (!summary) EXPECT_EQ(summary.status().message().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace wop::wasm
