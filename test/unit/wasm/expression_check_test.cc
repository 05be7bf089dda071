#include "wasm/expression_check.h"

#include <gtest/gtest.h>

#include <variant>
#include <vector>

namespace wop::wasm::binary {
namespace {

std::optional<ExpressionProblem> check(const std::vector<uint8_t>& bytes) {
  ByteReader reader(bytes, 0);
  return checkExpression(reader, 0);
}

TEST(ExpressionCheck, AcceptsWhatOnlyChangesMemoryAndGlobals) {
  // i32.const 0, global.set 0, memory.fill 0 with its operands, table.get 0 drop, end.
  EXPECT_FALSE(check({0x41, 0x00, 0x24, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0b, 0x00,
                      0x41, 0x00, 0x25, 0x00, 0x1a, 0x0b}));
}

TEST(ExpressionCheck, RefusesARunTimeChangeBeforeItsImmediates) {
  // table.set with nothing after it: refused for what it does, not as truncated.
  auto problem = check({0x26});
  ASSERT_TRUE(problem);
  const auto* change = std::get_if<RunTimeChange>(&*problem);
  ASSERT_NE(change, nullptr);
  EXPECT_STREQ(change->name, "table.set");
  EXPECT_EQ(expressionProblemStatus(*problem, "function 3").message(),
            "function 3 changes a table at run time (table.set)");
  auto drop = check({0xfc, 0x0d});
  ASSERT_TRUE(drop);
  EXPECT_EQ(expressionProblemStatus(*drop, "function 4").message(),
            "function 4 drops a segment at run time (elem.drop), which a fresh instance would "
            "have again");
}

TEST(ExpressionCheck, ReportsDecodingProblemsWithTheirKind) {
  auto unknown = check({0x00, 0x14, 0x00, 0x0b});
  ASSERT_TRUE(unknown);
  auto status = expressionProblemStatus(*unknown, "function 0");
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "cannot decode function 0: unknown opcode 0x14 at offset 1");
  auto truncated = check({0x41});
  ASSERT_TRUE(truncated);
  EXPECT_EQ(expressionProblemStatus(*truncated, "function 0").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wop::wasm::binary
