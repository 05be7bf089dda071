#include "wasm/module_state_check.h"

#include <array>
#include <optional>
#include <set>
#include <string_view>

#include "common/limits.h"
#include "wasm/expression_check.h"
#include "wasm/hidden_globals.h"
#include "wasm/module_types.h"
#include "wasm/name_section.h"
#include "wasm/section_reader.h"
#include "wasm/wasm_reader.h"

namespace wop::wasm {
namespace {

using binary::ByteReader;
using binary::checkExpression;
using binary::expectEnd;
using binary::expressionProblemStatus;
using binary::hexByte;
using binary::isNumberType;
using binary::malformed;
using binary::NameSection;
using binary::printable;
using binary::readCount;
using binary::readLimits;
using binary::readTableType;
using binary::readValType;
using binary::Section;
using binary::SectionReader;
using binary::ValType;
using binary::valTypeName;
using common::Status;
using common::StatusCode;

Status notCapturable(std::string message) {
  return {StatusCode::kFailedPrecondition, std::move(message)};
}

struct DefinedGlobal {
  ValType type;
  bool isMutable;
  bool exported = false;
  std::string_view exportName;  // the first export of it
};

class ModuleChecker {
 public:
  common::Result<CapturableState> check(std::span<const uint8_t> wasm) {
    if (wasm.size() > limits::kMaxModuleBytes) {
      return Status(StatusCode::kResourceExhausted,
                    "module of " + std::to_string(wasm.size()) + " bytes exceeds the limit");
    }
    if (auto status = locateSections(wasm); !status.isOk()) return status;
    if (nameSection_) {
      if (auto status = names_.parse(*nameSection_); !status.isOk()) return status;
    }
    using Parser = Status (ModuleChecker::*)(ByteReader);
    static constexpr std::array<std::pair<uint8_t, Parser>, 7> kParsers = {{
        {binary::kTypeSection, &ModuleChecker::parseTypes},
        {binary::kImportSection, &ModuleChecker::parseImports},
        {binary::kFunctionSection, &ModuleChecker::parseFunctions},
        {binary::kTableSection, &ModuleChecker::parseTables},
        {binary::kMemorySection, &ModuleChecker::parseMemories},
        {binary::kGlobalSection, &ModuleChecker::parseGlobals},
        {binary::kExportSection, &ModuleChecker::parseExports},
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
  Status locateSections(std::span<const uint8_t> wasm) {
    auto sections = SectionReader::open(wasm);
    if (!sections) return sections.status();
    while (true) {
      std::optional<Section> section;
      if (auto status = sections->next(section); !status.isOk()) return status;
      if (!section) return Status::ok();
      if (section->id == binary::kTagSection)
        return notCapturable("uses exception handling (a tag section)");
      if (section->id == binary::kCustomSection) {
        if (auto status = noteCustomSection(section->body); !status.isOk()) return status;
        continue;
      }
      sections_[section->id] = section->body;
    }
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
    if (auto status = readCount(reader, binary::kMaxTypes, "type count", typeCount_);
        !status.isOk())
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
    return expectEnd(reader, "the type section");
  }

  Status parseImports(ByteReader reader) {
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
      const std::string who = printable(module) + "." + printable(field);
      Status status = Status::ok();
      uint32_t typeIndex = 0;
      ModuleLimits limits;
      switch (kind) {
        case 0:
          if (!reader.readU32(typeIndex)) return malformed(reader, "import " + who);
          ++importedFunctions_;
          break;
        case 1:
          status = readTableType(reader, "import " + who, limits);
          break;
        case 2:
          status = readLimits(reader, binary::kMemoryLimitsFlags, "import " + who, limits);
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
    return expectEnd(reader, "the import section");
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
    if (auto status = readCount(reader, binary::kMaxFunctions, "function count", definedFunctions_);
        !status.isOk()) {
      return status;
    }
    for (uint32_t i = 0; i < definedFunctions_; ++i) {
      uint32_t typeIndex = 0;
      if (!reader.readU32(typeIndex)) return malformed(reader, "function type index");
    }
    return expectEnd(reader, "the function section");
  }

  Status parseTables(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, binary::kMaxTablesOrMemories, "table count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      ModuleLimits limits;
      if (auto status = readTableType(reader, "table " + std::to_string(i), limits); !status.isOk())
        return status;
    }
    return expectEnd(reader, "the table section");
  }

  Status parseMemories(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, binary::kMaxTablesOrMemories, "memory count", count);
        !status.isOk())
      return status;
    for (uint32_t i = 0; i < count; ++i) {
      ModuleLimits limits;
      if (auto status =
              readLimits(reader, binary::kMemoryLimitsFlags, "memory " + std::to_string(i), limits);
          !status.isOk())
        return status;
    }
    return expectEnd(reader, "the memory section");
  }

  Status parseGlobals(ByteReader reader) {
    uint32_t count = 0;
    if (auto status = readCount(reader, binary::kMaxGlobals, "global count", count); !status.isOk())
      return status;
    globals_.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      const std::string who = "global " + std::to_string(importedGlobals_ + i);
      ValType type;
      if (auto status = readValType(reader, type, who); !status.isOk()) return status;
      uint8_t mutability = 0;
      if (!reader.readByte(mutability) || mutability > 1) return malformed(reader, who);
      if (auto problem = checkExpression(reader, typeCount_)) {
        return expressionProblemStatus(*problem, who + "'s initializer");
      }
      globals_.push_back({type, mutability == 1, false, {}});
    }
    return expectEnd(reader, "the global section");
  }

  Status parseExports(ByteReader reader) {
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
    return expectEnd(reader, "the export section");
  }

  Status parseCode() {
    if (!sections_[binary::kCodeSection]) {
      if (definedFunctions_ == 0) return Status::ok();
      return {StatusCode::kInvalidArgument, "malformed module: functions without a code section"};
    }
    ByteReader reader = *sections_[binary::kCodeSection];
    uint32_t count = 0;
    if (auto status = readCount(reader, binary::kMaxFunctions, "function body count", count);
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
    return expectEnd(reader, "the code section");
  }

  // The function is named only on an error path: naming it scans the name section.
  Status checkBody(ByteReader body, uint32_t functionIndex) {
    const auto who = [&] { return names_.describeFunction(functionIndex); };
    uint32_t groups = 0;
    if (auto status = readCount(body, UINT32_MAX, "local group count", groups); !status.isOk())
      return status;
    uint64_t locals = 0;
    for (uint32_t g = 0; g < groups; ++g) {
      uint32_t count = 0;
      if (!body.readU32(count)) return malformed(body, "locals of " + who());
      locals += count;
      if (locals > binary::kMaxLocals) {
        return {StatusCode::kInvalidArgument,
                who() + " declares more than " + std::to_string(binary::kMaxLocals) + " locals"};
      }
      ValType type;
      ByteReader typeAt = body;
      if (!readValType(body, type, "").isOk()) return readValType(typeAt, type, who());
    }
    if (auto problem = checkExpression(body, typeCount_))
      return expressionProblemStatus(*problem, who());
    if (!body.atEnd()) return malformed(body, "end of " + who() + " (bytes after its final end)");
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
      if (!isNumberType(global.type)) {
        const std::string who = global.exported
                                    ? "exported mutable global " + printable(global.exportName)
                                    : "mutable " + names_.describeGlobal(index);
        return notCapturable(who + " is a " + valTypeName(global.type));
      }
      if (global.exported) {
        state.exportedMutableGlobals.emplace_back(global.exportName);
        continue;
      }
      std::string name = hiddenGlobalExportName(index);
      if (exportNames_.contains(name)) {
        return notCapturable("mutable " + names_.describeGlobal(index) +
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

  std::array<std::optional<ByteReader>, binary::kDataCountSection + 1> sections_;  // by id, 1..12
  std::optional<ByteReader> nameSection_;
  NameSection names_;
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
