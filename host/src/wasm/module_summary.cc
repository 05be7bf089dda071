#include "wasm/module_summary.h"

#include "wasm/section_reader.h"
#include "wasm/wasm_reader.h"

namespace wop::wasm {
namespace {

using binary::ByteReader;
using binary::expectEnd;
using binary::malformed;
using binary::printable;
using binary::readCount;
using common::Status;
using common::StatusCode;

class SummaryReader {
 public:
  common::Result<ModuleSummary> read(std::span<const uint8_t> wasm) {
    auto sections = binary::SectionReader::open(wasm);
    if (!sections) return sections.status();
    while (true) {
      std::optional<binary::Section> section;
      if (auto status = sections->next(section); !status.isOk()) return status;
      if (!section) return std::move(summary_);
      if (auto status = readSection(section->id, section->body); !status.isOk()) return status;
    }
  }

 private:
  Status readSection(uint8_t id, ByteReader body) {
    switch (id) {
      case binary::kImportSection:
        return readImports(body);
      case binary::kFunctionSection:
        return readCount(body, binary::kMaxFunctions, "function count", summary_.definedFunctions);
      case binary::kTableSection:
        return readTables(body);
      case binary::kMemorySection:
        return readMemories(body);
      case binary::kExportSection:
        return readExports(body);
      case binary::kStartSection: {
        uint32_t start = 0;
        if (!body.readU32(start)) return malformed(body, "start section");
        summary_.hasStartFunction = true;
        return Status::ok();
      }
      case binary::kCodeSection: {
        summary_.codeBytes = body.remaining();
        uint32_t bodies = 0;
        if (auto status = readCount(body, binary::kMaxFunctions, "function body count", bodies);
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
        return Status::ok();  // custom, types, globals, elements, data count, data, tags
    }
  }

  Status readImports(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, binary::kMaxImportsOrExports, "import count", count);
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
    return expectEnd(reader, "the import section");
  }

  Status readImportDescriptor(ByteReader& reader, uint8_t kind, const std::string& where) {
    uint32_t index = 0;
    uint8_t byte = 0;
    binary::ValType type;
    ModuleLimits limits;
    switch (kind) {
      case 0:  // function: a type index
        return reader.readU32(index) ? Status::ok() : malformed(reader, where);
      case 1:
        if (auto status = binary::readTableType(reader, where, limits); !status.isOk())
          return status;
        summary_.tables.push_back(limits);
        return Status::ok();
      case 2:
        if (auto status = binary::readLimits(reader, binary::kMemoryLimitsFlags, where, limits);
            !status.isOk())
          return status;
        summary_.memories.push_back(limits);
        return Status::ok();
      case 3:  // global: a value type, then mutability
        if (auto status = binary::readValType(reader, type, where); !status.isOk()) return status;
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
    if (auto status = readCount(reader, binary::kMaxTablesOrMemories, "table count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      ModuleLimits limits;
      if (auto status = binary::readTableType(reader, "table " + std::to_string(i), limits);
          !status.isOk())
        return status;
      summary_.tables.push_back(limits);
    }
    return expectEnd(reader, "the table section");
  }

  Status readMemories(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, binary::kMaxTablesOrMemories, "memory count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      ModuleLimits limits;
      if (auto status = binary::readLimits(reader, binary::kMemoryLimitsFlags,
                                           "memory " + std::to_string(i), limits);
          !status.isOk())
        return status;
      summary_.memories.push_back(limits);
    }
    return expectEnd(reader, "the memory section");
  }

  Status readExports(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, binary::kMaxImportsOrExports, "export count", count);
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
    return expectEnd(reader, "the export section");
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
