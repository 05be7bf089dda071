#include "wasm/module_types.h"

#include <string>

namespace wop::wasm::binary {
namespace {

Status unsupported(std::string message) {
  return {StatusCode::kFailedPrecondition, std::move(message)};
}

}  // namespace

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

bool isNumberType(ValType type) {
  return type == ValType::kI32 || type == ValType::kI64 || type == ValType::kF32 ||
         type == ValType::kF64;
}

Status readValType(ByteReader& reader, ValType& out, std::string_view where) {
  uint8_t byte = 0;
  if (!reader.readByte(byte)) return malformed(reader, where);
  const auto type = toValType(byte);
  if (!type) {
    return unsupported("unsupported value type " + hexByte(byte) + " in " + std::string(where) +
                       " (typed references, GC or exception handling)");
  }
  out = *type;
  return Status::ok();
}

Status readLimits(ByteReader& reader, uint8_t allowedFlags, std::string_view where,
                  ModuleLimits& out) {
  uint8_t flags = 0;
  if (!reader.readByte(flags)) return malformed(reader, where);
  if ((flags & ~allowedFlags) != 0) {
    return unsupported("unsupported limits flags " + hexByte(flags) + " in " + std::string(where));
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
    return unsupported("unsupported table type " + hexByte(refType) + " in " + std::string(where) +
                       " (typed references or a table initializer)");
  }
  return readLimits(reader, kTableLimitsFlags, where, out);
}

}  // namespace wop::wasm::binary
