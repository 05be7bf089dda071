// The pieces of a module's type information that more than one decoder reads: value types,
// table types and limits, and the caps on counts a module may declare.
//
// Thread-safety: pure functions over a ByteReader the caller owns.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "wasm/wasm_reader.h"

namespace wop::wasm {

// Limits of a table (elements) or a memory (64 KiB pages).
struct ModuleLimits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
};

namespace binary {

// Caps on counts read from a module, as in engines' implementation limits (wasmparser's).
// Every count is also capped by the bytes left, since each entry takes at least one byte.
inline constexpr uint32_t kMaxTypes = 1'000'000;
inline constexpr uint32_t kMaxImportsOrExports = 1'000'000;
inline constexpr uint32_t kMaxFunctions = 1'000'000;
inline constexpr uint32_t kMaxGlobals = 1'000'000;
inline constexpr uint32_t kMaxTablesOrMemories = 10'000;
inline constexpr uint64_t kMaxLocals = 50'000;

// Limits flag bits: bit 0 has a maximum, bit 1 shared, bit 2 64-bit indices.
inline constexpr uint8_t kTableLimitsFlags = 0x05;   // a maximum, 64-bit
inline constexpr uint8_t kMemoryLimitsFlags = 0x07;  // a maximum, shared, 64-bit

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
// references, exnref) are not among them.
std::optional<ValType> toValType(uint8_t byte);
// "i32", "funcref", ...
const char* valTypeName(ValType type);
bool isNumberType(ValType type);

// A value type; one this decoder does not know is kFailedPrecondition naming `where`.
Status readValType(ByteReader& reader, ValType& out, std::string_view where);

// Limits whose flags may use only the bits in `allowedFlags` (other bits: kFailedPrecondition);
// bounds above 2^32 - 1 without the 64-bit flag are malformed.
Status readLimits(ByteReader& reader, uint8_t allowedFlags, std::string_view where,
                  ModuleLimits& out);

// A funcref or externref table and its limits; typed references and table initializers
// (0x40) are kFailedPrecondition.
Status readTableType(ByteReader& reader, std::string_view where, ModuleLimits& out);

}  // namespace binary
}  // namespace wop::wasm
