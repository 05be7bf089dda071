// The instruction-level half of module_state_check.h: which instructions leave an instance
// different from a fresh instance of the same module in ways a snapshot (linear memory plus
// mutable globals) does not hold. Those are the table writes (table.set, table.init,
// table.copy, table.grow, table.fill) and the segment drops (data.drop, elem.drop); everything
// else an expression does is to memory, globals, locals or the stack.
//
// Thread-safety: pure functions over a ByteReader the caller owns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "common/status.h"
#include "wasm/expression_decoder.h"
#include "wasm/wasm_reader.h"

namespace wop::wasm::binary {

// An instruction after which a fresh instance of the module would differ from the old one.
struct RunTimeChange {
  enum Kind { kChangesTable, kDropsSegment };
  Opcode opcode;
  Kind kind;
  const char* name;  // "table.set"
};

// Why an expression is not acceptable: it cannot be decoded, or it changes what a snapshot
// cannot restore.
using ExpressionProblem = std::variant<DecodeProblem, RunTimeChange>;

// Decodes the expression at `reader` to its final end (block types index `typeCount` types).
// Stops at the first problem; a run-time change is refused before its immediates are read.
std::optional<ExpressionProblem> checkExpression(ByteReader& reader, uint32_t typeCount);

// The one-line refusal for `problem` in the expression `who` ("function 2 ($mutate)"):
// kInvalidArgument for malformed bytes, kFailedPrecondition for the rest.
Status expressionProblemStatus(const ExpressionProblem& problem, const std::string& who);

}  // namespace wop::wasm::binary
