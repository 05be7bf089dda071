// Decoding of Wasm instruction sequences (function bodies, constant expressions): each opcode
// and the immediates that follow it, for the proposals the host runs: MVP, multi-value,
// sign extension, saturating truncation, bulk memory, reference types, multi-memory, 64-bit
// memories, tail calls, threads (atomics) and final SIMD. Anything else (exception handling,
// GC, typed function references, relaxed SIMD, an unassigned opcode) is a refusal naming the
// opcode and its offset, never a guess at its length.
//
// The decoder knows encodings, not policy: a caller reads an opcode, decides whether it
// accepts it, then has its immediates read (module_state_check.cc refuses table.set before
// looking at its table index, so truncated bytes after a refused opcode never change the
// verdict).
//
// Thread-safety: a cursor over a ByteReader the caller owns and keeps alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "wasm/wasm_reader.h"

namespace wop::wasm::binary {

inline constexpr uint8_t kMiscPrefix = 0xfc;     // saturating truncation, bulk memory, tables
inline constexpr uint8_t kSimdPrefix = 0xfd;     // SIMD
inline constexpr uint8_t kThreadsPrefix = 0xfe;  // atomics

// An instruction's opcode: one byte (prefix 0), or a prefix byte and a LEB128 sub-opcode.
struct Opcode {
  uint8_t prefix = 0;
  uint32_t code = 0;
  friend bool operator==(const Opcode&, const Opcode&) = default;
};

struct DecodeProblem {
  enum Kind {
    kMalformed,    // the bytes are not a valid instruction sequence
    kUndecodable,  // an opcode or immediate of a proposal this decoder does not know
  } kind;
  std::string detail;  // "unknown opcode 0xfd 0x9a", "bad memarg", ...
  size_t offset;       // module offset of the instruction's first byte
};
using MaybeDecodeProblem = std::optional<DecodeProblem>;

class ExpressionDecoder {
 public:
  // Decodes the expression that starts at `reader`'s position; `typeCount` bounds the type
  // indices of block types. The reader must outlive the decoder; it is left after the `end`
  // that closes the expression.
  ExpressionDecoder(ByteReader& reader, uint32_t typeCount) : r_(reader), typeCount_(typeCount) {}

  // Whether the `end` closing the expression has been decoded.
  bool done() const { return depth_ == 0; }
  // Module offset of the instruction readOpcode last read.
  size_t instructionOffset() const { return at_; }

  // Reads the next opcode, not its immediates. Only while !done(). (Inline, with
  // readImmediates' dispatch: they run once per instruction of every body.)
  MaybeDecodeProblem readOpcode(Opcode& out) {
    at_ = r_.offset();
    uint8_t byte = 0;
    if (!r_.readByte(byte)) return noFinalEnd();
    const bool prefixed = byte == kMiscPrefix || byte == kSimdPrefix || byte == kThreadsPrefix;
    out.prefix = prefixed ? byte : 0;
    out.code = byte;
    if (prefixed && !r_.readU32(out.code)) return badSubOpcode(byte);
    return std::nullopt;
  }

  // Reads the immediates of `op`, the opcode readOpcode just returned, and tracks the nesting
  // of blocks. An opcode the decoder does not know is kUndecodable here.
  MaybeDecodeProblem readImmediates(const Opcode& op) {
    switch (op.prefix) {
      case 0:
        return singleByte(static_cast<uint8_t>(op.code));
      case kMiscPrefix:
        return misc(op.code);
      case kSimdPrefix:
        return simd(op.code);
      case kThreadsPrefix:
        return threads(op.code);
      default:
        return undecodable("unknown opcode prefix " + hexByte(op.prefix));
    }
  }

  // Decodes every remaining instruction up to and including the final `end`.
  MaybeDecodeProblem skipToEnd();

 private:
  MaybeDecodeProblem malformed(std::string detail) const;
  MaybeDecodeProblem noFinalEnd() const;
  MaybeDecodeProblem badSubOpcode(uint8_t prefix) const;
  MaybeDecodeProblem undecodable(std::string detail) const;
  MaybeDecodeProblem u32s(uint64_t count);
  MaybeDecodeProblem bytes(size_t count);
  MaybeDecodeProblem blockType();
  MaybeDecodeProblem memArg();
  MaybeDecodeProblem brTable();
  MaybeDecodeProblem selectTypes();
  MaybeDecodeProblem refNull();
  MaybeDecodeProblem singleByte(uint8_t op);
  MaybeDecodeProblem misc(uint32_t sub);
  MaybeDecodeProblem simd(uint32_t sub);
  MaybeDecodeProblem threads(uint32_t sub);

  ByteReader& r_;
  uint32_t typeCount_;
  size_t depth_ = 1;  // open blocks, counting the expression itself
  size_t at_ = 0;
};

}  // namespace wop::wasm::binary
