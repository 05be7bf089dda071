#include "wasm/expression_decoder.h"

#include <algorithm>
#include <array>

#include "wasm/module_types.h"

namespace wop::wasm::binary {

MaybeDecodeProblem ExpressionDecoder::skipToEnd() {
  while (!done()) {
    Opcode op;
    if (auto problem = readOpcode(op)) return problem;
    if (auto problem = readImmediates(op)) return problem;
  }
  return std::nullopt;
}

MaybeDecodeProblem ExpressionDecoder::malformed(std::string detail) const {
  return DecodeProblem{DecodeProblem::kMalformed, std::move(detail), at_};
}

MaybeDecodeProblem ExpressionDecoder::noFinalEnd() const {
  return malformed("expression has no final end");
}

MaybeDecodeProblem ExpressionDecoder::badSubOpcode(uint8_t prefix) const {
  return malformed("bad " + hexByte(prefix) + " opcode");
}

MaybeDecodeProblem ExpressionDecoder::undecodable(std::string detail) const {
  return DecodeProblem{DecodeProblem::kUndecodable, std::move(detail), at_};
}

MaybeDecodeProblem ExpressionDecoder::u32s(uint64_t count) {
  uint32_t ignored = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (!r_.readU32(ignored)) return malformed("bad index immediate");
  }
  return std::nullopt;
}

MaybeDecodeProblem ExpressionDecoder::bytes(size_t count) {
  if (!r_.skip(count)) return malformed("truncated immediate");
  return std::nullopt;
}

// 0x40 (no result), a one-byte value type, or a non-negative s33 type index.
MaybeDecodeProblem ExpressionDecoder::blockType() {
  int64_t value = 0;
  if (!r_.readS33(value)) return malformed("bad block type");
  if (value == -0x40) return std::nullopt;
  if (value < 0 && value >= -0x40 && toValType(static_cast<uint8_t>(value & 0x7f))) {
    return std::nullopt;
  }
  if (value < 0) return undecodable("unsupported block type " + std::to_string(value));
  if (value >= typeCount_) {
    return malformed("block type index " + std::to_string(value) + " out of range");
  }
  return std::nullopt;
}

// Alignment flags (bit 6: a memory index follows, multi-memory), then a u64 offset (which
// also reads every valid u32 offset of a 32-bit memory).
MaybeDecodeProblem ExpressionDecoder::memArg() {
  uint32_t flags = 0;
  uint64_t offset = 0;
  if (!r_.readU32(flags)) return malformed("bad memarg");
  if (flags >= 0x80) return undecodable("memarg alignment flags " + hexByte(flags));
  if ((flags & 0x40) != 0) {
    if (auto problem = u32s(1)) return problem;
  }
  if (!r_.readU64(offset)) return malformed("bad memarg offset");
  return std::nullopt;
}

MaybeDecodeProblem ExpressionDecoder::brTable() {
  uint32_t count = 0;
  if (!r_.readU32(count) || count > r_.remaining()) return malformed("bad br_table");
  return u32s(uint64_t{count} + 1);
}

MaybeDecodeProblem ExpressionDecoder::selectTypes() {
  uint32_t count = 0;
  if (!r_.readU32(count) || count > r_.remaining()) return malformed("bad select types");
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t byte = 0;
    if (!r_.readByte(byte)) return malformed("bad select types");
    if (!toValType(byte)) return undecodable("select with value type " + hexByte(byte));
  }
  return std::nullopt;
}

MaybeDecodeProblem ExpressionDecoder::refNull() {
  uint8_t heapType = 0;
  if (!r_.readByte(heapType)) return malformed("bad ref.null");
  if (heapType != 0x70 && heapType != 0x6f) return undecodable("ref.null " + hexByte(heapType));
  return std::nullopt;
}

MaybeDecodeProblem ExpressionDecoder::singleByte(uint8_t op) {
  switch (op) {
    case 0x02:  // block, loop, if
    case 0x03:
    case 0x04:
      if (auto problem = blockType()) return problem;
      ++depth_;
      return std::nullopt;
    case 0x0b:  // end
      --depth_;
      return std::nullopt;
    case 0x00:
    case 0x01:
    case 0x05:
    case 0x0f:
    case 0x1a:
    case 0x1b:
    case 0xd1:
      return std::nullopt;
    case 0x0c:  // br, br_if, call, return_call
    case 0x0d:
    case 0x10:
    case 0x12:
    case 0x20:  // local.get/set/tee, global.get/set
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:  // table.get, table.set
    case 0x26:
    case 0x3f:  // memory.size, memory.grow
    case 0x40:
    case 0xd2:  // ref.func
      return u32s(1);
    case 0x11:
    case 0x13:  // call_indirect, return_call_indirect: type, table
      return u32s(2);
    case 0x0e:
      return brTable();
    case 0x1c:
      return selectTypes();
    case 0x41:
      return r_.skipSigned(32) ? std::nullopt : malformed("bad i32.const");
    case 0x42:
      return r_.skipSigned(64) ? std::nullopt : malformed("bad i64.const");
    case 0x43:
      return bytes(4);
    case 0x44:
      return bytes(8);
    case 0xd0:
      return refNull();
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x18:
    case 0x19:
    case 0x1f:
      return undecodable("exception-handling opcode " + hexByte(op));
    default:
      break;
  }
  if (op >= 0x28 && op <= 0x3e) return memArg();
  if (op >= 0x45 && op <= 0xc4) return std::nullopt;  // numeric, sign extension
  return undecodable("unknown opcode " + hexByte(op));
}

MaybeDecodeProblem ExpressionDecoder::misc(uint32_t sub) {
  switch (sub) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:  // trunc_sat
      return std::nullopt;
    case 8:   // memory.init data, memory
    case 10:  // memory.copy memory, memory
    case 12:  // table.init element, table
    case 14:  // table.copy table, table
      return u32s(2);
    case 9:   // data.drop data
    case 11:  // memory.fill memory
    case 13:  // elem.drop element
    case 15:  // table.grow table
    case 16:  // table.size table
    case 17:  // table.fill table
      return u32s(1);
    default:
      return undecodable("unknown opcode 0xfc " + hexByte(sub));
  }
}

// Final SIMD (0xfd 0x00..0xff); relaxed SIMD and the unassigned opcodes are refused.
MaybeDecodeProblem ExpressionDecoder::simd(uint32_t sub) {
  if (sub <= 0x0b || sub == 0x5c || sub == 0x5d) return memArg();  // loads, store, load_zero
  if (sub == 0x0c || sub == 0x0d) return bytes(16);                // v128.const, shuffle
  if (sub >= 0x15 && sub <= 0x22) return bytes(1);                 // extract/replace lane
  if (sub >= 0x54 && sub <= 0x5b) {                                // load/store lane
    if (auto problem = memArg()) return problem;
    return bytes(1);
  }
  static constexpr std::array<uint16_t, 17> kUnassigned = {0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0,
                                                           0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5,
                                                           0xc6, 0xcf, 0xd0, 0xd2, 0xd3};
  const bool unassigned =
      sub > 0xff || sub == 0xd4 || sub == 0xe2 || sub == 0xee ||
      std::find(kUnassigned.begin(), kUnassigned.end(), sub) != kUnassigned.end();
  if (unassigned) return undecodable("unknown opcode 0xfd " + hexByte(sub));
  return std::nullopt;  // every other SIMD opcode has no immediate
}

MaybeDecodeProblem ExpressionDecoder::threads(uint32_t sub) {
  if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) return memArg();  // notify, wait, rmw
  if (sub == 0x03) {  // atomic.fence: one reserved zero byte
    uint8_t zero = 1;
    if (!r_.readByte(zero) || zero != 0) return malformed("bad atomic.fence");
    return std::nullopt;
  }
  return undecodable("unknown opcode 0xfe " + hexByte(sub));
}

}  // namespace wop::wasm::binary
