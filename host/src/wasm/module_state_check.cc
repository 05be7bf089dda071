#include "wasm/module_state_check.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <set>
#include <string_view>

#include "common/limits.h"
#include "wasm/hidden_globals.h"
#include "wasm/wasm_reader.h"

namespace wop::wasm {
namespace {

using binary::ByteReader;
using binary::hexByte;
using binary::malformed;
using binary::printable;
using binary::readCount;
using common::Status;
using common::StatusCode;

// Caps on counts read from the module, as in engines' implementation limits (wasmparser's).
// Every count is also capped by the bytes left, since each entry takes at least one byte.
constexpr uint32_t kMaxTypes = 1'000'000;
constexpr uint32_t kMaxImportsOrExports = 1'000'000;
constexpr uint32_t kMaxFunctions = 1'000'000;
constexpr uint32_t kMaxGlobals = 1'000'000;
constexpr uint32_t kMaxTablesOrMemories = 10'000;
constexpr uint64_t kMaxLocals = 50'000;

Status notCapturable(std::string message) {
  return {StatusCode::kFailedPrecondition, std::move(message)};
}

enum class ValType : uint8_t {
  kI32 = 0x7f,
  kI64 = 0x7e,
  kF32 = 0x7d,
  kF64 = 0x7c,
  kV128 = 0x7b,
  kFuncRef = 0x70,
  kExternRef = 0x6f,
};

// The value types of MVP, SIMD and reference types; typed references (GC, function
// references, exnref) are refused as undecodable.
std::optional<ValType> toValType(uint8_t byte) {
  switch (byte) {
    case 0x7f:
    case 0x7e:
    case 0x7d:
    case 0x7c:
    case 0x7b:
    case 0x70:
    case 0x6f:
      return static_cast<ValType>(byte);
    default:
      return std::nullopt;
  }
}

const char* valTypeName(ValType type) {
  switch (type) {
    case ValType::kI32:
      return "i32";
    case ValType::kI64:
      return "i64";
    case ValType::kF32:
      return "f32";
    case ValType::kF64:
      return "f64";
    case ValType::kV128:
      return "v128";
    case ValType::kFuncRef:
      return "funcref";
    case ValType::kExternRef:
      return "externref";
  }
  return "?";
}

Status readValType(ByteReader& reader, ValType& out, std::string_view where) {
  uint8_t byte = 0;
  if (!reader.readByte(byte)) return malformed(reader, where);
  const auto type = toValType(byte);
  if (!type) {
    return notCapturable("unsupported value type " + hexByte(byte) + " in " + std::string(where) +
                         " (typed references, GC or exception handling)");
  }
  out = *type;
  return Status::ok();
}

// Table and memory limits; `allowedFlags` are the flag bits this kind may use (bit 0: has a
// maximum, bit 1: shared, bit 2: 64-bit indices).
Status skipLimits(ByteReader& reader, uint8_t allowedFlags, std::string_view where) {
  uint8_t flags = 0;
  if (!reader.readByte(flags)) return malformed(reader, where);
  if ((flags & ~allowedFlags) != 0) {
    return notCapturable("unsupported limits flags " + hexByte(flags) + " in " +
                         std::string(where));
  }
  const int bounds = (flags & 0x01) ? 2 : 1;
  for (int i = 0; i < bounds; ++i) {
    uint64_t bound = 0;
    if (!reader.readU64(bound) || ((flags & 0x04) == 0 && bound > UINT32_MAX)) {
      return malformed(reader, where);
    }
  }
  return Status::ok();
}

Status skipTableType(ByteReader& reader) {
  uint8_t refType = 0;
  if (!reader.readByte(refType)) return malformed(reader, "table type");
  if (refType != 0x70 && refType != 0x6f) {
    return notCapturable("unsupported table type " + hexByte(refType) +
                         " (typed references or table initializers)");
  }
  return skipLimits(reader, 0x05, "table limits");
}

// ------------------------------------------------------------------------ instructions

// Why an instruction sequence is not acceptable; the caller names the function.
struct InstructionProblem {
  enum Kind { kMalformed, kUndecodable, kChangesTable, kDropsSegment } kind;
  std::string detail;
  size_t offset;
};
using MaybeProblem = std::optional<InstructionProblem>;

class ExpressionDecoder {
 public:
  ExpressionDecoder(ByteReader& reader, uint32_t typeCount) : r_(reader), typeCount_(typeCount) {}

  // Decodes instructions up to and including the `end` that closes the expression.
  MaybeProblem decode() {
    size_t depth = 1;
    while (depth > 0) {
      at_ = r_.offset();
      uint8_t op = 0;
      if (!r_.readByte(op)) return malformed("expression has no final end");
      if (op == 0x0b) {
        --depth;
        continue;
      }
      if (op == 0x02 || op == 0x03 || op == 0x04) {
        if (auto problem = blockType()) return problem;
        ++depth;
        continue;
      }
      if (auto problem = singleByte(op)) return problem;
    }
    return std::nullopt;
  }

 private:
  MaybeProblem malformed(std::string detail) {
    return InstructionProblem{InstructionProblem::kMalformed, std::move(detail), at_};
  }
  MaybeProblem undecodable(std::string detail) {
    return InstructionProblem{InstructionProblem::kUndecodable, std::move(detail), at_};
  }
  MaybeProblem refuse(InstructionProblem::Kind kind, std::string detail) {
    return InstructionProblem{kind, std::move(detail), at_};
  }
  MaybeProblem u32s(int count) {
    uint32_t ignored = 0;
    for (int i = 0; i < count; ++i) {
      if (!r_.readU32(ignored)) return malformed("bad index immediate");
    }
    return std::nullopt;
  }
  MaybeProblem bytes(size_t count) {
    if (!r_.skip(count)) return malformed("truncated immediate");
    return std::nullopt;
  }

  // 0x40 (no result), a one-byte value type, or a non-negative s33 type index.
  MaybeProblem blockType() {
    int64_t value = 0;
    if (!r_.readS33(value)) return malformed("bad block type");
    if (value == -0x40) return std::nullopt;
    if (value < 0 && value >= -0x40 && toValType(static_cast<uint8_t>(value & 0x7f))) {
      return std::nullopt;
    }
    if (value < 0) return undecodable("unsupported block type " + std::to_string(value));
    if (value >= typeCount_)
      return malformed("block type index " + std::to_string(value) + " out of range");
    return std::nullopt;
  }

  // Alignment flags (bit 6: a memory index follows, multi-memory), then a u64 offset (which
  // also reads every valid u32 offset of a 32-bit memory).
  MaybeProblem memArg() {
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

  MaybeProblem singleByte(uint8_t op) {
    switch (op) {
      case 0x00:
      case 0x01:
      case 0x05:
      case 0x0f:
      case 0x1a:
      case 0x1b:
      case 0xd1:
        return std::nullopt;
      case 0x0c:
      case 0x0d:
      case 0x10:
      case 0x12:
      case 0x20:
      case 0x21:
      case 0x22:
      case 0x23:
      case 0x24:
      case 0x25:
      case 0x3f:
      case 0x40:
      case 0xd2:
        return u32s(1);
      case 0x11:
      case 0x13:  // call_indirect, return_call_indirect: type, table
        return u32s(2);
      case 0x0e:
        return brTable();
      case 0x1c:
        return selectTypes();
      case 0x26:
        return refuse(InstructionProblem::kChangesTable, "table.set");
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
      case 0xfc:
        return prefixFc();
      case 0xfd:
        return prefixFd();
      case 0xfe:
        return prefixFe();
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

  MaybeProblem brTable() {
    uint32_t count = 0;
    if (!r_.readU32(count) || count > r_.remaining()) return malformed("bad br_table");
    return u32s(static_cast<int>(count) + 1);
  }

  MaybeProblem selectTypes() {
    uint32_t count = 0;
    if (!r_.readU32(count) || count > r_.remaining()) return malformed("bad select types");
    for (uint32_t i = 0; i < count; ++i) {
      uint8_t byte = 0;
      if (!r_.readByte(byte)) return malformed("bad select types");
      if (!toValType(byte)) return undecodable("select with value type " + hexByte(byte));
    }
    return std::nullopt;
  }

  MaybeProblem refNull() {
    uint8_t heapType = 0;
    if (!r_.readByte(heapType)) return malformed("bad ref.null");
    if (heapType != 0x70 && heapType != 0x6f) return undecodable("ref.null " + hexByte(heapType));
    return std::nullopt;
  }

  MaybeProblem prefixFc() {
    uint32_t sub = 0;
    if (!r_.readU32(sub)) return malformed("bad 0xfc opcode");
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
      case 8:
        return u32s(2);  // memory.init data, memory
      case 10:
        return u32s(2);  // memory.copy memory, memory
      case 11:
        return u32s(1);  // memory.fill memory
      case 16:
        return u32s(1);  // table.size table
      case 9:
        return refuse(InstructionProblem::kDropsSegment, "data.drop");
      case 13:
        return refuse(InstructionProblem::kDropsSegment, "elem.drop");
      case 12:
        return refuse(InstructionProblem::kChangesTable, "table.init");
      case 14:
        return refuse(InstructionProblem::kChangesTable, "table.copy");
      case 15:
        return refuse(InstructionProblem::kChangesTable, "table.grow");
      case 17:
        return refuse(InstructionProblem::kChangesTable, "table.fill");
      default:
        return undecodable("unknown opcode 0xfc " + hexByte(sub));
    }
  }

  MaybeProblem prefixFe() {
    uint32_t sub = 0;
    if (!r_.readU32(sub)) return malformed("bad 0xfe opcode");
    if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) return memArg();  // notify, wait, rmw
    if (sub == 0x03) {  // atomic.fence: one reserved zero byte
      uint8_t zero = 1;
      if (!r_.readByte(zero) || zero != 0) return malformed("bad atomic.fence");
      return std::nullopt;
    }
    return undecodable("unknown opcode 0xfe " + hexByte(sub));
  }

  // Final SIMD (0xfd 0x00..0xff); relaxed SIMD and the unassigned opcodes are refused.
  MaybeProblem prefixFd() {
    uint32_t sub = 0;
    if (!r_.readU32(sub)) return malformed("bad 0xfd opcode");
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

  ByteReader& r_;
  uint32_t typeCount_;
  size_t at_ = 0;
};

// ------------------------------------------------------------------------ the module

struct DefinedGlobal {
  ValType type;
  bool isMutable;
  bool exported = false;
  std::string_view exportName;  // the first export of it
};

// Spans of the name section's subsections we use; looked up again only for messages.
struct Names {
  std::optional<ByteReader> functions;  // subsection 1
  std::optional<ByteReader> globals;    // subsection 7
};

std::optional<std::string_view> lookupName(const std::optional<ByteReader>& map, uint32_t index) {
  if (!map) return std::nullopt;
  ByteReader reader = *map;  // already validated by parseNameMap
  uint32_t count = 0;
  reader.readU32(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t entry = 0;
    std::string_view name;
    if (!reader.readU32(entry) || !reader.readName(name)) break;
    if (entry == index) return name;
  }
  return std::nullopt;
}

std::string describe(const char* kind, uint32_t index, const std::optional<ByteReader>& names) {
  std::string out = std::string(kind) + " " + std::to_string(index);
  if (auto name = lookupName(names, index)) out += " ($" + printable(*name) + ")";
  return out;
}

// A name map (index, name)*; finds `wanted` if given.
Status parseNameMap(ByteReader reader, std::string_view wanted, std::optional<uint32_t>* found) {
  uint32_t count = 0;
  if (auto status = readCount(reader, UINT32_MAX, "name map count", count); !status.isOk())
    return status;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t index = 0;
    std::string_view name;
    if (!reader.readU32(index) || !reader.readName(name))
      return malformed(reader, "name map entry");
    if (found && !*found && name == wanted) *found = index;
  }
  if (!reader.atEnd()) return malformed(reader, "name map end");
  return Status::ok();
}

Status parseNameSection(ByteReader reader, Names& names) {
  while (!reader.atEnd()) {
    uint8_t id = 0;
    uint32_t size = 0;
    std::optional<ByteReader> body;
    if (!reader.readByte(id) || !reader.readU32(size) || !reader.sub(size, body)) {
      return malformed(reader, "name subsection");
    }
    if (id == 1 && !names.functions) {
      if (auto status = parseNameMap(*body, {}, nullptr); !status.isOk()) return status;
      names.functions = body;
    } else if (id == 7 && !names.globals) {
      if (auto status = parseNameMap(*body, {}, nullptr); !status.isOk()) return status;
      names.globals = body;
    }
  }
  return Status::ok();
}

Status problemStatus(const InstructionProblem& problem, const std::string& who) {
  const std::string where = " at offset " + std::to_string(problem.offset);
  switch (problem.kind) {
    case InstructionProblem::kMalformed:
      return {StatusCode::kInvalidArgument, "cannot decode " + who + ": " + problem.detail + where};
    case InstructionProblem::kUndecodable:
      return notCapturable("cannot decode " + who + ": " + problem.detail + where);
    case InstructionProblem::kChangesTable:
      return notCapturable(who + " changes a table at run time (" + problem.detail + ")");
    case InstructionProblem::kDropsSegment:
      return notCapturable(who + " drops a segment at run time (" + problem.detail +
                           "), which a fresh instance would have again");
  }
  return {StatusCode::kInternal, "unknown instruction problem"};
}

class ModuleChecker {
 public:
  common::Result<CapturableState> check(std::span<const uint8_t> wasm) {
    if (wasm.size() > limits::kMaxModuleBytes) {
      return Status(StatusCode::kResourceExhausted,
                    "module of " + std::to_string(wasm.size()) + " bytes exceeds the limit");
    }
    if (auto status = locateSections(wasm); !status.isOk()) return status;
    if (nameSection_) {
      if (auto status = parseNameSection(*nameSection_, names_); !status.isOk()) return status;
    }
    using Parser = Status (ModuleChecker::*)(ByteReader);
    static constexpr std::array<std::pair<uint8_t, Parser>, 7> kParsers = {{
        {1, &ModuleChecker::parseTypes},
        {2, &ModuleChecker::parseImports},
        {3, &ModuleChecker::parseFunctions},
        {4, &ModuleChecker::parseTables},
        {5, &ModuleChecker::parseMemories},
        {6, &ModuleChecker::parseGlobals},
        {7, &ModuleChecker::parseExports},
    }};
    // Start, element, data count and data sections hold nothing that changes at run time once
    // table.* and *.drop are refused: a fresh instance applies the same active segments.
    for (const auto& [id, parser] : kParsers) {
      if (!sections_[id]) continue;
      if (auto status = (this->*parser)(*sections_[id]); !status.isOk()) return status;
    }
    if (auto status = parseCode(); !status.isOk()) return status;
    return capturableGlobals();
  }

 private:
  // Rank of each section id in the required order; custom sections (0) may go anywhere and
  // the tag section (13, exception handling) is refused.
  static int sectionRank(uint8_t id) {
    static constexpr std::array<int, 14> kRank = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
    return id < kRank.size() ? kRank[id] : -1;
  }

  Status locateSections(std::span<const uint8_t> wasm) {
    static constexpr std::array<uint8_t, 8> kHeader = {0x00, 0x61, 0x73, 0x6d,
                                                       0x01, 0x00, 0x00, 0x00};
    if (wasm.size() < kHeader.size() || !std::equal(kHeader.begin(), kHeader.end(), wasm.begin())) {
      return {StatusCode::kInvalidArgument, "not a core WebAssembly module (bad magic or version)"};
    }
    ByteReader reader(wasm.subspan(kHeader.size()), kHeader.size());
    int lastRank = 0;
    while (!reader.atEnd()) {
      uint8_t id = 0;
      uint32_t size = 0;
      std::optional<ByteReader> body;
      if (!reader.readByte(id) || !reader.readU32(size) || !reader.sub(size, body)) {
        return malformed(reader, "section header or size");
      }
      const int rank = sectionRank(id);
      if (rank < 0) return malformed(reader, "section id " + std::to_string(id));
      if (id == 13) return notCapturable("uses exception handling (a tag section)");
      if (id == 0) {
        if (auto status = noteCustomSection(*body); !status.isOk()) return status;
        continue;
      }
      if (rank <= lastRank) return malformed(reader, "order of section " + std::to_string(id));
      lastRank = rank;
      sections_[id] = body;
    }
    return Status::ok();
  }

  Status noteCustomSection(ByteReader body) {
    std::string_view name;
    if (!body.readName(name)) return malformed(body, "custom section name");
    if (name != "name") return Status::ok();
    if (nameSection_) return malformed(body, "second name section");
    nameSection_ = body;
    return Status::ok();
  }

  Status parseTypes(ByteReader reader) {
    if (auto status = readCount(reader, kMaxTypes, "type count", typeCount_); !status.isOk())
      return status;
    for (uint32_t i = 0; i < typeCount_; ++i) {
      uint8_t form = 0;
      if (!reader.readByte(form)) return malformed(reader, "type");
      if (form != 0x60) {
        return notCapturable("type " + std::to_string(i) + " has form " + hexByte(form) +
                             " (GC types, whose heap a snapshot cannot save)");
      }
      for (const char* part : {"parameter", "result"}) {
        uint32_t count = 0;
        if (auto status = readCount(reader, UINT32_MAX, part, count); !status.isOk()) return status;
        for (uint32_t j = 0; j < count; ++j) {
          ValType ignored;
          if (auto status = readValType(reader, ignored, "a function type"); !status.isOk())
            return status;
        }
      }
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the type section");
  }

  Status parseImports(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, kMaxImportsOrExports, "import count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      std::string_view module, field;
      uint8_t kind = 0;
      if (!reader.readName(module) || !reader.readName(field) || !reader.readByte(kind)) {
        return malformed(reader, "import");
      }
      const std::string who = printable(module) + "." + printable(field);
      Status status = Status::ok();
      uint32_t typeIndex = 0;
      switch (kind) {
        case 0:
          if (!reader.readU32(typeIndex)) return malformed(reader, "import " + who);
          ++importedFunctions_;
          break;
        case 1:
          status = skipTableType(reader);
          break;
        case 2:
          status = skipLimits(reader, 0x07, "memory limits");
          break;
        case 3:
          status = parseImportedGlobal(reader, who);
          break;
        case 4:
          return notCapturable("imports an exception tag " + who);
        default:
          return malformed(reader, "kind of import " + who);
      }
      if (!status.isOk()) return status;
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the import section");
  }

  Status parseImportedGlobal(ByteReader& reader, const std::string& who) {
    ValType type;
    if (auto status = readValType(reader, type, "import " + who); !status.isOk()) return status;
    uint8_t mutability = 0;
    if (!reader.readByte(mutability) || mutability > 1) return malformed(reader, "import " + who);
    if (mutability == 1) return notCapturable("imports a mutable global " + who);
    ++importedGlobals_;
    return Status::ok();
  }

  Status parseFunctions(ByteReader reader) {
    if (auto status = readCount(reader, kMaxFunctions, "function count", definedFunctions_);
        !status.isOk()) {
      return status;
    }
    for (uint32_t i = 0; i < definedFunctions_; ++i) {
      uint32_t typeIndex = 0;
      if (!reader.readU32(typeIndex)) return malformed(reader, "function type index");
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the function section");
  }

  Status parseTables(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, kMaxTablesOrMemories, "table count", count); !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      if (auto status = skipTableType(reader); !status.isOk()) return status;
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the table section");
  }

  Status parseMemories(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, kMaxTablesOrMemories, "memory count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      if (auto status = skipLimits(reader, 0x07, "memory limits"); !status.isOk()) return status;
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the memory section");
  }

  Status parseGlobals(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, kMaxGlobals, "global count", count); !status.isOk())
      return status;
    globals_.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      const std::string who = "global " + std::to_string(importedGlobals_ + i);
      ValType type;
      if (auto status = readValType(reader, type, who); !status.isOk()) return status;
      uint8_t mutability = 0;
      if (!reader.readByte(mutability) || mutability > 1) return malformed(reader, who);
      if (auto problem = ExpressionDecoder(reader, typeCount_).decode()) {
        return problemStatus(*problem, who + "'s initializer");
      }
      globals_.push_back({type, mutability == 1, false, {}});
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the global section");
  }

  Status parseExports(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, kMaxImportsOrExports, "export count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      std::string_view name;
      uint8_t kind = 0;
      uint32_t index = 0;
      if (!reader.readName(name) || !reader.readByte(kind) || !reader.readU32(index)) {
        return malformed(reader, "export");
      }
      if (kind == 4) return notCapturable("exports an exception tag " + printable(name));
      if (kind > 4) return malformed(reader, "kind of export " + printable(name));
      exportNames_.insert(name);
      if (kind != 3) continue;
      if (index >= importedGlobals_ + uint64_t{globals_.size()}) {
        return {StatusCode::kInvalidArgument, "export " + printable(name) + " names global " +
                                                  std::to_string(index) + ", which does not exist"};
      }
      if (index < importedGlobals_) continue;  // imported globals are immutable here
      DefinedGlobal& global = globals_[index - importedGlobals_];
      if (!global.exported) {
        global.exported = true;
        global.exportName = name;
      }
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the export section");
  }

  Status parseCode() {
    if (!sections_[10]) {
      if (definedFunctions_ == 0) return Status::ok();
      return {StatusCode::kInvalidArgument, "malformed module: functions without a code section"};
    }
    ByteReader reader = *sections_[10];
    uint32_t count = 0;
    if (auto status = readCount(reader, kMaxFunctions, "function body count", count);
        !status.isOk())
      return status;
    if (count != definedFunctions_) {
      return {StatusCode::kInvalidArgument, "malformed module: " + std::to_string(count) +
                                                " function bodies for " +
                                                std::to_string(definedFunctions_) + " functions"};
    }
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t size = 0;
      std::optional<ByteReader> body;
      if (!reader.readU32(size) || !reader.sub(size, body))
        return malformed(reader, "function body size");
      if (auto status = checkBody(*body, importedFunctions_ + i); !status.isOk()) return status;
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the code section");
  }

  Status checkBody(ByteReader body, uint32_t functionIndex) {
    const std::string who = describe("function", functionIndex, names_.functions);
    uint32_t groups = 0;
    if (auto status = readCount(body, UINT32_MAX, "local group count", groups); !status.isOk())
      return status;
    uint64_t locals = 0;
    for (uint32_t g = 0; g < groups; ++g) {
      uint32_t count = 0;
      ValType type;
      if (!body.readU32(count)) return malformed(body, "locals of " + who);
      locals += count;
      if (locals > kMaxLocals) {
        return {StatusCode::kInvalidArgument,
                who + " declares more than " + std::to_string(kMaxLocals) + " locals"};
      }
      if (auto status = readValType(body, type, who); !status.isOk()) return status;
    }
    if (auto problem = ExpressionDecoder(body, typeCount_).decode())
      return problemStatus(*problem, who);
    if (!body.atEnd()) return malformed(body, "end of " + who + " (bytes after its final end)");
    return Status::ok();
  }

  // Every mutable global is saved: exported ones under their export name, the others (clang's
  // __stack_pointer among them) under a name the host exports them by before compiling. Which
  // hidden global is the stack pointer is never guessed: a module may keep its own state in
  // what looks like one.
  common::Result<CapturableState> capturableGlobals() const {
    CapturableState state;
    for (size_t i = 0; i < globals_.size(); ++i) {
      const DefinedGlobal& global = globals_[i];
      const uint32_t index = importedGlobals_ + static_cast<uint32_t>(i);
      if (!global.isMutable) continue;
      if (global.type == ValType::kV128 || global.type == ValType::kFuncRef ||
          global.type == ValType::kExternRef) {
        const std::string who = global.exported
                                    ? "exported mutable global " + printable(global.exportName)
                                    : "mutable " + describe("global", index, names_.globals);
        return notCapturable(who + " is a " + valTypeName(global.type));
      }
      if (global.exported) {
        state.exportedMutableGlobals.emplace_back(global.exportName);
        continue;
      }
      std::string name = hiddenGlobalExportName(index);
      if (exportNames_.contains(name)) {
        return notCapturable("mutable " + describe("global", index, names_.globals) +
                             " is not exported, and the name the host would export it by (" + name +
                             ") is taken");
      }
      state.exportedMutableGlobals.push_back(std::move(name));
      state.hiddenMutableGlobals.push_back(index);
    }
    if (state.exportedMutableGlobals.size() > limits::kMaxSnapshotGlobals) {
      return notCapturable("has " + std::to_string(state.exportedMutableGlobals.size()) +
                           " mutable globals; a snapshot holds at most " +
                           std::to_string(limits::kMaxSnapshotGlobals));
    }
    return state;
  }

  std::array<std::optional<ByteReader>, 13> sections_;  // by section id, 1..12
  std::optional<ByteReader> nameSection_;
  Names names_;
  uint32_t typeCount_ = 0;
  uint32_t importedFunctions_ = 0;
  uint32_t importedGlobals_ = 0;
  uint32_t definedFunctions_ = 0;
  std::vector<DefinedGlobal> globals_;
  std::set<std::string_view> exportNames_;
};

}  // namespace

common::Result<CapturableState> checkCapturableState(std::span<const uint8_t> wasm) {
  return ModuleChecker().check(wasm);
}

}  // namespace wop::wasm
