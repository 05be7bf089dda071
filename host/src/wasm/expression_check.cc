#include "wasm/expression_check.h"

#include <array>

namespace wop::wasm::binary {
namespace {

constexpr uint8_t kTableSet = 0x26;  // the only single-byte opcode among them
constexpr std::array<RunTimeChange, 7> kRunTimeChanges = {{
    {{0, kTableSet}, RunTimeChange::kChangesTable, "table.set"},
    {{kMiscPrefix, 12}, RunTimeChange::kChangesTable, "table.init"},
    {{kMiscPrefix, 14}, RunTimeChange::kChangesTable, "table.copy"},
    {{kMiscPrefix, 15}, RunTimeChange::kChangesTable, "table.grow"},
    {{kMiscPrefix, 17}, RunTimeChange::kChangesTable, "table.fill"},
    {{kMiscPrefix, 9}, RunTimeChange::kDropsSegment, "data.drop"},
    {{kMiscPrefix, 13}, RunTimeChange::kDropsSegment, "elem.drop"},
}};

}  // namespace

std::optional<ExpressionProblem> checkExpression(ByteReader& reader, uint32_t typeCount) {
  ExpressionDecoder decoder(reader, typeCount);
  while (!decoder.done()) {
    Opcode op;
    if (auto problem = decoder.readOpcode(op)) return *problem;
    if (op.prefix != 0 || op.code == kTableSet) {  // most instructions skip the table
      for (const RunTimeChange& change : kRunTimeChanges) {
        if (change.opcode == op) return change;
      }
    }
    if (auto problem = decoder.readImmediates(op)) return *problem;
  }
  return std::nullopt;
}

Status expressionProblemStatus(const ExpressionProblem& problem, const std::string& who) {
  if (const auto* change = std::get_if<RunTimeChange>(&problem)) {
    if (change->kind == RunTimeChange::kChangesTable) {
      return {StatusCode::kFailedPrecondition,
              who + " changes a table at run time (" + change->name + ")"};
    }
    return {StatusCode::kFailedPrecondition, who + " drops a segment at run time (" + change->name +
                                                 "), which a fresh instance would have again"};
  }
  const auto& decode = std::get<DecodeProblem>(problem);
  const StatusCode code = decode.kind == DecodeProblem::kMalformed
                              ? StatusCode::kInvalidArgument
                              : StatusCode::kFailedPrecondition;
  return {code, "cannot decode " + who + ": " + decode.detail + " at offset " +
                    std::to_string(decode.offset)};
}

}  // namespace wop::wasm::binary
