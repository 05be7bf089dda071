#include "wasm/module_state_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>
#include <wasmtime.hh>

namespace wop::wasm {
namespace {

using common::StatusCode;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<uint8_t> wat(std::string_view text) {
  auto bytes = wasmtime::wat2wasm(text);
  if (!bytes) {
    ADD_FAILURE() << "bad test WAT: " << bytes.err().message();
    return {};
  }
  const auto& raw = bytes.ok();
  return std::vector<uint8_t>(raw.begin(), raw.end());
}

common::Result<CapturableState> checkWat(std::string_view text) {
  return checkCapturableState(wat(text));
}

// A module with one function of type [] -> [] whose body (locals and code) is `body`, for
// instructions the text format cannot write.
std::vector<uint8_t> moduleWithBody(std::vector<uint8_t> body) {
  std::vector<uint8_t> bytes = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00,
                                0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,  // type [] -> []
                                0x03, 0x02, 0x01, 0x00};                   // one function
  body.insert(body.begin(), static_cast<uint8_t>(body.size()));
  bytes.push_back(0x0a);
  bytes.push_back(static_cast<uint8_t>(body.size() + 1));
  bytes.push_back(0x01);
  bytes.insert(bytes.end(), body.begin(), body.end());
  return bytes;
}

// The modules sit beside json_roundtrip.wasm, in the build's wasm/ folder.
std::filesystem::path wasmDir() {
  return std::filesystem::path(WOP_JSON_ROUNDTRIP_WASM).parent_path();
}

std::vector<uint8_t> readFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(file)), {});
}

std::string errorOf(const common::Result<CapturableState>& result) {
  return result ? "(capturable)" : result.status().message();
}

TEST(ModuleStateCheck, AStackPointerIsSavedLikeAnyOtherHiddenGlobal) {
  auto result = checkWat(R"((module
    (memory (export "memory") 1)
    (global $__stack_pointer (mut i32) (i32.const 65536))
    (func $work (export "work")
      global.get $__stack_pointer
      i32.const 16
      i32.sub
      global.set $__stack_pointer)))");
  ASSERT_TRUE(result) << result.status().toString();
  EXPECT_THAT(result->exportedMutableGlobals, ElementsAre("wop.global.0"));
  EXPECT_THAT(result->hiddenMutableGlobals, ElementsAre(0u));
}

// The first mutable i32 is where clang keeps __stack_pointer, but a module may keep its own
// state there (it once lost it across a swap-out): it is saved, never assumed to reset itself.
TEST(ModuleStateCheck, EveryHiddenMutableGlobalIsSavedWhateverItsPlaceOrName) {
  auto result = checkWat(R"((module
    (memory (export "memory") 1)
    (global $count (mut i32) (i32.const 0))
    (global i64 (i64.const 7))
    (global $__stack_pointer (mut i32) (i32.const 1024))
    (global $ratio (mut f64) (f64.const 0.5))
    (func (export "work") i32.const 1 global.set 0)))");
  ASSERT_TRUE(result) << result.status().toString();
  EXPECT_THAT(result->exportedMutableGlobals,
              ElementsAre("wop.global.0", "wop.global.2", "wop.global.3"));
  EXPECT_THAT(result->hiddenMutableGlobals, ElementsAre(0u, 2u, 3u));
}

TEST(ModuleStateCheck, ExportedMutableGlobalsAreListedOnceEach) {
  auto result = checkWat(R"((module
    (global $__stack_pointer (mut i32) (i32.const 1024))
    (global $hits (export "hits") (export "hits_again") (mut i64) (i64.const 0))
    (global $version (export "version") i32 (i32.const 3))
    (global $ratio (export "ratio") (mut f64) (f64.const 0.5))))");
  ASSERT_TRUE(result) << result.status().toString();
  EXPECT_THAT(result->exportedMutableGlobals, ElementsAre("wop.global.0", "hits", "ratio"));
  EXPECT_THAT(result->hiddenMutableGlobals, ElementsAre(0u));
}

TEST(ModuleStateCheck, RefusesAHiddenMutableGlobalOfAReferenceType) {
  EXPECT_EQ(errorOf(checkWat(R"((module (global $callback (mut funcref) (ref.null func))))")),
            "mutable global 0 ($callback) is a funcref");
}

TEST(ModuleStateCheck, RefusesWhenTheNameForAHiddenGlobalIsTaken) {
  EXPECT_THAT(errorOf(checkWat(R"((module (global (mut i32) (i32.const 0))
                                   (func (export "wop.global.0"))))")),
              HasSubstr("the name the host would export it by (wop.global.0) is taken"));
}

TEST(ModuleStateCheck, RefusesMoreMutableGlobalsThanASnapshotHolds) {
  std::string text = "(module";
  for (int i = 0; i < 1025; ++i) text += " (global (mut i32) (i32.const 0))";
  EXPECT_THAT(errorOf(checkWat(text + ")")),
              HasSubstr("has 1025 mutable globals; a snapshot holds at most 1024"));
}

TEST(ModuleStateCheck, RefusesExportedMutableGlobalsOfOtherTypes) {
  EXPECT_EQ(errorOf(checkWat(
                R"((module (global (export "lanes") (mut v128) (v128.const i32x4 0 0 0 0))))")),
            "exported mutable global lanes is a v128");
  EXPECT_EQ(
      errorOf(checkWat(R"((module (global (export "callback") (mut funcref) (ref.null func))))")),
      "exported mutable global callback is a funcref");
}

TEST(ModuleStateCheck, RefusesAnImportedMutableGlobal) {
  auto result = checkWat(R"((module (import "env" "g" (global (mut i32)))))");
  EXPECT_EQ(errorOf(result), "imports a mutable global env.g");
  EXPECT_TRUE(
      checkWat(R"((module (import "env" "g" (global i32)) (global (mut i32) (global.get 0))))"));
}

struct TableChange {
  const char* instruction;
  const char* wat;
  const char* message;
};

class ModuleStateCheckTableChange : public ::testing::TestWithParam<TableChange> {};

TEST_P(ModuleStateCheckTableChange, RefusesNamingTheFunction) {
  const std::string module = std::string(R"((module
    (import "env" "log" (func $log))
    (table $t 2 funcref)
    (memory 1)
    (elem $e func $log)
    (data $d "hi")
    (func $quiet)
    (func $mutate )") + GetParam().wat +
                             "))";
  auto result = checkWat(module);
  ASSERT_FALSE(result) << GetParam().instruction;
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    AllInstructions, ModuleStateCheckTableChange,
    ::testing::Values(
        TableChange{"table.set", "i32.const 0 ref.func $quiet table.set $t",
                    "function 2 ($mutate) changes a table at run time (table.set)"},
        TableChange{"table.grow", "ref.null func i32.const 1 table.grow $t drop",
                    "function 2 ($mutate) changes a table at run time (table.grow)"},
        TableChange{"table.fill", "i32.const 0 ref.null func i32.const 1 table.fill $t",
                    "function 2 ($mutate) changes a table at run time (table.fill)"},
        TableChange{"table.copy", "i32.const 0 i32.const 1 i32.const 1 table.copy $t $t",
                    "function 2 ($mutate) changes a table at run time (table.copy)"},
        TableChange{"table.init", "i32.const 0 i32.const 0 i32.const 1 table.init $t $e",
                    "function 2 ($mutate) changes a table at run time (table.init)"},
        TableChange{"elem.drop", "elem.drop $e",
                    "function 2 ($mutate) drops a segment at run time (elem.drop), which a fresh "
                    "instance would have again"},
        TableChange{"data.drop", "data.drop $d",
                    "function 2 ($mutate) drops a segment at run time (data.drop), which a fresh "
                    "instance would have again"}),
    [](const auto& info) {
      std::string name = info.param.instruction;
      name.erase(name.find('.'), 1);
      return name;
    });

TEST(ModuleStateCheck, DecodesEveryImmediateKindOfTheSupportedProposals) {
  auto result = checkWat(R"((module
    (type $binary (func (param i32 i32) (result i32)))
    (type $pair (func (param i32) (result i32 i32)))
    (import "env" "f" (func $imported (type $binary)))
    (memory $main 1 1 shared)
    (memory $scratch 1)
    (table $t0 1 funcref)
    (table $t1 1 externref)
    (elem (table $t0) (i32.const 0) func $imported)
    (data $passive "abc")
    (func $all (param $p i32) (result i32) (local $v v128) (local $r externref)
      ;; control, multi-value block types, br_table, tail calls
      (block $outer (result i32)
        (block (type $pair) (local.get $p)
          (br_table 0 1 0 (i32.const 1) (i32.const 2) (i32.const 0)) drop drop)
        (loop $l (br_if $l (i32.const 0)))
        (if (i32.const 1) (then nop) (else unreachable))
        (i32.const 5))
      drop
      ;; memory: memargs with offsets, a second memory, bulk memory
      (i64.load offset=1000000 align=4 (i32.const 0)) drop
      (i32.store8 $scratch offset=3 (i32.const 0) (i32.const 1))
      (memory.copy $scratch $main (i32.const 0) (i32.const 0) (i32.const 1))
      (memory.fill $scratch (i32.const 0) (i32.const 0) (i32.const 1))
      (memory.init $passive (i32.const 0) (i32.const 0) (i32.const 1))
      (drop (memory.grow $scratch (memory.size $main)))
      ;; numeric, sign extension, saturating truncation
      (drop (i64.extend32_s (i64.const -9223372036854775808)))
      (drop (i32.trunc_sat_f64_u (f64.const 1e300)))
      (drop (f32.const -0.0))
      ;; reference types
      (drop (table.get $t0 (i32.const 0)))
      (drop (table.size $t1))
      (drop (ref.is_null (ref.func $all)))
      (local.set $r (ref.null extern))
      (drop (select (result i32) (i32.const 1) (i32.const 2) (i32.const 0)))
      (drop (call_indirect $t0 (type $binary) (i32.const 1) (i32.const 2) (i32.const 0)))
      ;; atomics
      (drop (i32.atomic.rmw.add offset=8 (i32.const 0) (i32.const 1)))
      (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
      (atomic.fence)
      ;; SIMD: memargs, lanes, 16-byte immediates
      (local.set $v (v128.const i64x2 -1 0x7fffffffffffffff))
      (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))
      (local.set $v (v128.load8_lane offset=2 7 (i32.const 0) (local.get $v)))
      (v128.store32_lane 3 (i32.const 0) (local.get $v))
      (local.set $v (i32x4.replace_lane 2 (local.get $v) (i8x16.extract_lane_u 15 (local.get $v))))
      (local.set $v (v128.load32_zero (i32.const 0)))
      (local.set $v (i32x4.dot_i16x8_s (local.get $v) (local.get $v)))
      (local.set $v (f64x2.convert_low_i32x4_u (local.get $v)))
      (drop (i32x4.all_true (local.get $v)))
      (return_call $imported (i32.const 1) (i32.const 2)))
    (func (export "entry") (result i32) (return_call $all (i32.const 3)))))");
  ASSERT_TRUE(result) << result.status().toString();
}

TEST(ModuleStateCheck, RefusesWhatItCannotDecode) {
  EXPECT_EQ(errorOf(checkCapturableState(moduleWithBody({0x00, 0xfd, 0x9a, 0x01, 0x0b}))),
            "cannot decode function 0: unknown opcode 0xfd 0x9a at offset 23");
  EXPECT_THAT(errorOf(checkCapturableState(moduleWithBody({0x00, 0xfd, 0x80, 0x02, 0x0b}))),
              HasSubstr("unknown opcode 0xfd 0x100"));  // relaxed SIMD
  EXPECT_THAT(errorOf(checkCapturableState(moduleWithBody({0x00, 0x06, 0x40, 0x0b, 0x0b}))),
              HasSubstr("exception-handling opcode 0x06"));  // legacy try
  EXPECT_THAT(errorOf(checkCapturableState(moduleWithBody({0x00, 0x14, 0x00, 0x0b}))),
              HasSubstr("unknown opcode 0x14"));  // call_ref
  EXPECT_THAT(errorOf(checkWat(R"((module (tag $e) (func (throw $e))))")),
              HasSubstr("exception handling"));
}

TEST(ModuleStateCheck, NamesWhatIsMalformed) {
  const auto check = [](std::vector<uint8_t> bytes) {
    return errorOf(checkCapturableState(bytes));
  };
  EXPECT_THAT(check({}), HasSubstr("not a core WebAssembly module"));
  EXPECT_THAT(check({0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00}), HasSubstr("not a core"));
  EXPECT_THAT(check({0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f}),
              HasSubstr("section header or size"));
  EXPECT_THAT(check({0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x06, 0x05, 0xff, 0xff, 0xff,
                     0xff, 0x0f}),
              HasSubstr("global count 4294967295"));
  EXPECT_THAT(check({0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0xff, 0xff, 0xff,
                     0xff, 0xff, 0x7f}),
              HasSubstr("type count"));
  EXPECT_THAT(check(moduleWithBody({0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x0b})),
              HasSubstr("bad i32.const"));
  EXPECT_THAT(check(moduleWithBody({0x00, 0x02, 0x40, 0x0b})), HasSubstr("no final end"));
  EXPECT_THAT(check(moduleWithBody({0x00, 0x0b, 0x01})), HasSubstr("bytes after its final end"));
  EXPECT_THAT(check(moduleWithBody({0x02, 0xff, 0xff, 0x03, 0x7f, 0x01, 0x7f, 0x0b})),
              HasSubstr("locals"));
}

TEST(ModuleStateCheck, EverySdkModuleIsCapturable) {
  size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(wasmDir())) {
    if (entry.path().extension() != ".wasm") continue;
    SCOPED_TRACE(entry.path().string());
    auto result = checkCapturableState(readFile(entry.path()));
    EXPECT_TRUE(result) << result.status().toString();
    ++checked;
  }
  EXPECT_GE(checked, 1u) << "no modules in " << wasmDir();
}

TEST(ModuleStateCheck, SurvivesTruncatedAndCorruptedModules) {
  const std::vector<uint8_t> module = readFile(WOP_JSON_ROUNDTRIP_WASM);
  ASSERT_GT(module.size(), 4096u);
  std::span<const uint8_t> all(module);
  for (size_t length = 0; length <= 4096; ++length) (void)checkCapturableState(all.first(length));
  for (size_t length = 4096; length < module.size(); length += 997)
    (void)checkCapturableState(all.first(length));
  for (size_t length = 0; length < 8; ++length)
    EXPECT_FALSE(checkCapturableState(all.first(length)));

  std::mt19937 random(42);
  std::vector<uint8_t> corrupted = module;
  for (int round = 0; round < 300; ++round) {
    corrupted = module;
    for (int flips = 0; flips < 1 + round % 4; ++flips) {
      corrupted[8 + random() % (corrupted.size() - 8)] = static_cast<uint8_t>(random());
    }
    (void)checkCapturableState(corrupted);
  }
  for (int round = 0; round < 300; ++round) {
    std::vector<uint8_t> garbage(module.begin(), module.begin() + 8);
    for (size_t i = 0; i < 64 + random() % 512; ++i)
      garbage.push_back(static_cast<uint8_t>(random()));
    (void)checkCapturableState(garbage);
  }
}

}  // namespace
}  // namespace wop::wasm
