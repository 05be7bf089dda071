#include "wasm/module_summary.h"

#include <algorithm>
#include <array>

#include "wasm/wasm_reader.h"

namespace wop::wasm {
namespace {

using binary::ByteReader;
using binary::malformed;
using binary::printable;
using common::Status;
using common::StatusCode;

// Caps on counts, as in module_state_check.cc; each is also capped by the bytes left.
constexpr uint32_t kMaxImportsOrExports = 1'000'000;
constexpr uint32_t kMaxFunctions = 1'000'000;
constexpr uint32_t kMaxTablesOrMemories = 10'000;

Status unsupported(std::string message) {
  return {StatusCode::kFailedPrecondition, std::move(message)};
}

// Limits with flags bit 0 (has a maximum), bit 1 (shared), bit 2 (64-bit); `allowed` masks
// the bits this kind may use.
Status readLimits(ByteReader& reader, uint8_t allowed, std::string_view where, ModuleLimits& out) {
  uint8_t flags = 0;
  if (!reader.readByte(flags)) return malformed(reader, where);
  if ((flags & ~allowed) != 0) {
    return unsupported("unsupported limits flags " + binary::hexByte(flags) + " in " +
                       std::string(where));
  }
  const bool wide = (flags & 0x04) != 0;
  uint64_t min = 0;
  if (!reader.readU64(min) || (!wide && min > UINT32_MAX)) return malformed(reader, where);
  out.min = min;
  out.max.reset();
  if ((flags & 0x01) != 0) {
    uint64_t max = 0;
    if (!reader.readU64(max) || (!wide && max > UINT32_MAX)) return malformed(reader, where);
    out.max = max;
  }
  return Status::ok();
}

Status readTableType(ByteReader& reader, std::string_view where, ModuleLimits& out) {
  uint8_t refType = 0;
  if (!reader.readByte(refType)) return malformed(reader, where);
  if (refType != 0x70 && refType != 0x6f) {
    return unsupported("unsupported table type " + binary::hexByte(refType) + " in " +
                       std::string(where) + " (typed references or a table initializer)");
  }
  return readLimits(reader, 0x05, where, out);
}

class SummaryReader {
 public:
  common::Result<ModuleSummary> read(std::span<const uint8_t> wasm) {
    static constexpr std::array<uint8_t, 8> kHeader = {0x00, 0x61, 0x73, 0x6d,
                                                       0x01, 0x00, 0x00, 0x00};
    if (wasm.size() < kHeader.size() || !std::equal(kHeader.begin(), kHeader.end(), wasm.begin())) {
      return Status(StatusCode::kInvalidArgument,
                    "not a core WebAssembly module (bad magic or version)");
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
      if (id == 0) continue;
      if (rank <= lastRank) return malformed(reader, "order of section " + std::to_string(id));
      lastRank = rank;
      if (auto status = readSection(id, *body); !status.isOk()) return status;
    }
    return std::move(summary_);
  }

 private:
  // Rank of each section id in the required order (custom sections, 0, go anywhere).
  static int sectionRank(uint8_t id) {
    static constexpr std::array<int, 14> kRank = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
    return id < kRank.size() ? kRank[id] : -1;
  }

  Status readSection(uint8_t id, ByteReader body) {
    switch (id) {
      case 2:
        return readImports(body);
      case 3:
        return binary::readCount(body, kMaxFunctions, "function count", summary_.definedFunctions);
      case 4:
        return readTables(body);
      case 5:
        return readMemories(body);
      case 7:
        return readExports(body);
      case 8: {
        uint32_t start = 0;
        if (!body.readU32(start)) return malformed(body, "start section");
        summary_.hasStartFunction = true;
        return Status::ok();
      }
      case 10: {
        summary_.codeBytes = body.remaining();
        uint32_t bodies = 0;
        if (auto status = binary::readCount(body, kMaxFunctions, "function body count", bodies);
            !status.isOk())
          return status;
        if (bodies != summary_.definedFunctions) {
          return Status(StatusCode::kInvalidArgument,
                        "malformed module: " + std::to_string(bodies) + " function bodies for " +
                            std::to_string(summary_.definedFunctions) + " functions");
        }
        return Status::ok();
      }
      default:
        return Status::ok();  // types, globals, elements, data count, data: not needed here
    }
  }

  Status readImports(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = binary::readCount(reader, kMaxImportsOrExports, "import count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      std::string_view module, field;
      uint8_t kind = 0;
      if (!reader.readName(module) || !reader.readName(field) || !reader.readByte(kind)) {
        return malformed(reader, "import");
      }
      const std::string where = "import " + printable(module) + "." + printable(field);
      if (auto status = readImportDescriptor(reader, kind, where); !status.isOk()) return status;
      summary_.imports.push_back(
          {std::string(module), std::string(field), static_cast<ExternKind>(kind)});
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the import section");
  }

  Status readImportDescriptor(ByteReader& reader, uint8_t kind, const std::string& where) {
    uint32_t index = 0;
    uint8_t byte = 0;
    ModuleLimits limits;
    switch (kind) {
      case 0:  // function: a type index
        return reader.readU32(index) ? Status::ok() : malformed(reader, where);
      case 1:
        if (auto status = readTableType(reader, where, limits); !status.isOk()) return status;
        summary_.tables.push_back(limits);
        return Status::ok();
      case 2:
        if (auto status = readLimits(reader, 0x07, where, limits); !status.isOk()) return status;
        summary_.memories.push_back(limits);
        return Status::ok();
      case 3:  // global: a value type, then mutability
        if (!reader.readByte(byte)) return malformed(reader, where);
        if (!((byte >= 0x7b && byte <= 0x7f) || byte == 0x70 || byte == 0x6f)) {
          return unsupported("unsupported value type " + binary::hexByte(byte) + " in " + where);
        }
        if (!reader.readByte(byte) || byte > 1) return malformed(reader, where);
        return Status::ok();
      case 4:  // tag: an attribute, then a type index
        if (!reader.readByte(byte) || byte != 0 || !reader.readU32(index))
          return malformed(reader, where);
        return Status::ok();
      default:
        return malformed(reader, "kind of " + where);
    }
  }

  Status readTables(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = binary::readCount(reader, kMaxTablesOrMemories, "table count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      ModuleLimits limits;
      if (auto status = readTableType(reader, "table " + std::to_string(i), limits); !status.isOk())
        return status;
      summary_.tables.push_back(limits);
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the table section");
  }

  Status readMemories(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = binary::readCount(reader, kMaxTablesOrMemories, "memory count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      ModuleLimits limits;
      if (auto status = readLimits(reader, 0x07, "memory " + std::to_string(i), limits);
          !status.isOk())
        return status;
      summary_.memories.push_back(limits);
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the memory section");
  }

  Status readExports(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = binary::readCount(reader, kMaxImportsOrExports, "export count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      std::string_view name;
      uint8_t kind = 0;
      uint32_t index = 0;
      if (!reader.readName(name) || !reader.readByte(kind) || !reader.readU32(index)) {
        return malformed(reader, "export");
      }
      if (kind > 4) return malformed(reader, "kind of export " + printable(name));
      summary_.exports.push_back({std::string(name), static_cast<ExternKind>(kind), index});
    }
    return reader.atEnd() ? Status::ok() : malformed(reader, "end of the export section");
  }

  ModuleSummary summary_;
};

}  // namespace

const char* externKindName(ExternKind kind) {
  switch (kind) {
    case ExternKind::kFunction:
      return "function";
    case ExternKind::kTable:
      return "table";
    case ExternKind::kMemory:
      return "memory";
    case ExternKind::kGlobal:
      return "global";
    case ExternKind::kTag:
      return "tag";
  }
  return "?";
}

common::Result<ModuleSummary> summarizeModule(std::span<const uint8_t> wasm) {
  return SummaryReader().read(wasm);
}

}  // namespace wop::wasm
