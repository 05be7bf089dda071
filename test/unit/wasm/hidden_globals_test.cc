#include "wasm/hidden_globals.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string_view>
#include <vector>
#include <wasmtime.hh>

#include "wasm/module_state_check.h"
#include "wasm/module_summary.h"

namespace wop::wasm {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<uint8_t> wat(std::string_view text) {
  auto bytes = wasmtime::wat2wasm(text);
  EXPECT_TRUE(bytes) << bytes.err().message();
  return bytes ? bytes.unwrap() : std::vector<uint8_t>{};
}

// Export names and kinds of a module, as Wasmtime sees it after compiling it.
std::vector<std::string> compiledExports(const std::vector<uint8_t>& bytes) {
  wasmtime::Engine engine;
  std::span<uint8_t> span(const_cast<uint8_t*>(bytes.data()), bytes.size());
  auto module = wasmtime::Module::compile(engine, span);
  EXPECT_TRUE(module) << module.err().message();
  std::vector<std::string> names;
  if (!module) return names;
  for (const auto& exported : module.ok().exports()) {
    const bool global = std::holds_alternative<wasmtime::GlobalType::Ref>(
        wasmtime::ExternType::from_export(exported));
    names.push_back(std::string(exported.name()) + (global ? ":global" : ""));
  }
  return names;
}

TEST(HiddenGlobals, AreAddedToAnExistingExportSection) {
  const auto original = wat(R"((module
    (global $sp (mut i32) (i32.const 1024))
    (global $count (mut i64) (i64.const 0))
    (memory (export "memory") 1)
    (func (export "work") global.get 0 drop)
    (data (i32.const 0) "kept")))");
  auto state = checkCapturableState(original);
  ASSERT_TRUE(state) << state.status().toString();
  auto rewritten = exportHiddenGlobals(original, state->hiddenMutableGlobals);
  ASSERT_TRUE(rewritten) << rewritten.status().toString();
  EXPECT_THAT(compiledExports(*rewritten),
              ElementsAre("memory", "work", "wop.global.0:global", "wop.global.1:global"));
  // Now every mutable global is exported, under the names the first check gave them.
  auto again = checkCapturableState(*rewritten);
  ASSERT_TRUE(again) << again.status().toString();
  EXPECT_EQ(again->exportedMutableGlobals, state->exportedMutableGlobals);
  EXPECT_THAT(again->hiddenMutableGlobals, IsEmpty());
}

TEST(HiddenGlobals, GetAnExportSectionWhereThereWasNone) {
  for (
      std::string_view text : {
          R"((module (global (mut i32) (i32.const 0))))",
          R"((module (global (mut i32) (i32.const 0)) (func) (start 0)))",
          R"((module (memory 1) (global (mut i32) (i32.const 0)) (func) (data (i32.const 0) "x")))",
      }) {
    SCOPED_TRACE(text);
    auto rewritten = exportHiddenGlobals(wat(text), {0});
    ASSERT_TRUE(rewritten) << rewritten.status().toString();
    EXPECT_THAT(compiledExports(*rewritten), ElementsAre("wop.global.0:global"));
  }
}

TEST(HiddenGlobals, NothingToAddLeavesTheBytesAlone) {
  const auto original = wat(R"((module (func (export "f"))))");
  auto rewritten = exportHiddenGlobals(original, {});
  ASSERT_TRUE(rewritten);
  EXPECT_EQ(*rewritten, original);
}

TEST(HiddenGlobals, RefuseBytesWhoseSectionsCannotBeWalked) {
  auto bytes = wat(R"((module (global (mut i32) (i32.const 0)) (func (export "f"))))");
  bytes.resize(bytes.size() - 2);
  EXPECT_FALSE(exportHiddenGlobals(bytes, {0}));
  EXPECT_FALSE(exportHiddenGlobals(std::vector<uint8_t>{0x00, 0x61}, {0}));
}

}  // namespace
}  // namespace wop::wasm
