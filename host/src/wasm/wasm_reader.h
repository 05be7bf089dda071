// Bounds-checked reading of a binary Wasm module: the bottom layer of the decoders of untrusted
// modules (section_reader.h walks sections with it, expression_decoder.h instructions,
// module_types.h types and limits). Nothing here throws on bad input or reads out of bounds.
//
// Thread-safety: a ByteReader is a cursor over bytes it does not own; the bytes must outlive it
// and every reader carved from it. Copies are independent cursors over the same bytes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wop::wasm::binary {

using common::Status;
using common::StatusCode;

// Longest module-supplied name quoted in a message.
inline constexpr size_t kMaxNameInMessage = 64;

// Reads a byte span; every read is bounds-checked and returns false at the end or on a
// malformed LEB128, leaving the position unspecified (callers stop at the first failure).
class ByteReader {
 public:
  ByteReader() = default;  // empty, at offset 0
  // `base` is the offset of bytes[0] in the module, so that offset() can name a module offset.
  ByteReader(std::span<const uint8_t> bytes, size_t base) : bytes_(bytes), base_(base) {}

  size_t offset() const { return base_ + pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool atEnd() const { return pos_ == bytes_.size(); }

  bool readByte(uint8_t& out) {
    if (atEnd()) return false;
    out = bytes_[pos_++];
    return true;
  }
  bool skip(size_t count) {
    if (count > remaining()) return false;
    pos_ += count;
    return true;
  }
  // Carves the next `size` bytes off as a reader of their own.
  bool sub(size_t size, std::optional<ByteReader>& out) {
    if (size > remaining()) return false;
    out.emplace(bytes_.subspan(pos_, size), offset());
    pos_ += size;
    return true;
  }
  bool readU32(uint32_t& out) {
    uint64_t value = 0;
    if (!readLeb(32, false, value)) return false;
    out = static_cast<uint32_t>(value);
    return true;
  }
  bool readU64(uint64_t& out) { return readLeb(64, false, out); }
  bool skipSigned(unsigned bits) {
    uint64_t ignored = 0;
    return readLeb(bits, true, ignored);
  }
  // A signed LEB128 of up to 33 bits (block types), sign-extended.
  bool readS33(int64_t& out) {
    uint64_t raw = 0;
    if (!readLeb(33, true, raw)) return false;
    out = static_cast<int64_t>(raw);
    return true;
  }
  bool readName(std::string_view& out) {
    uint32_t length = 0;
    if (!readU32(length) || length > remaining()) return false;
    out = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return true;
  }

 private:
  // Strict LEB128 as the spec defines it: at most ceil(bits/7) bytes, and the unused bits of
  // the last byte zero (unsigned) or copies of the sign bit (signed).
  bool readLeb(unsigned bits, bool isSigned, uint64_t& out) {
    const unsigned maxBytes = (bits + 6) / 7;
    uint64_t value = 0;
    for (unsigned i = 0; i < maxBytes; ++i) {
      uint8_t byte = 0;
      if (!readByte(byte)) return false;
      const unsigned shift = 7 * i;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        if (i + 1 == maxBytes) {
          const unsigned usedBits = bits - shift;  // 1..7 bits of this byte carry the value
          const uint8_t unused = static_cast<uint8_t>((byte & 0x7f) >> usedBits);
          const uint8_t allOnes = static_cast<uint8_t>(0x7f >> usedBits);
          const bool negative = isSigned && ((byte >> (usedBits - 1)) & 1) != 0;
          if (unused != (negative ? allOnes : 0)) return false;
        }
        if (isSigned && shift + 7 < 64 && (byte & 0x40) != 0) value |= ~uint64_t{0} << (shift + 7);
        out = value;
        return true;
      }
    }
    return false;  // the last allowed byte still had its continuation bit set
  }

  std::span<const uint8_t> bytes_;
  size_t base_ = 0;
  size_t pos_ = 0;
};

inline Status malformed(const ByteReader& reader, std::string_view what) {
  return {StatusCode::kInvalidArgument, "malformed module: " + std::string(what) +
                                            " is truncated or invalid at offset " +
                                            std::to_string(reader.offset())};
}

// A name from the module, safe to put in a one-line message.
inline std::string printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, kMaxNameInMessage)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (name.size() > kMaxNameInMessage) out += "...";
  return out;
}

inline std::string hexByte(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%02x", value);
  return buffer;
}

// A count of entries that each take at least one byte, capped.
inline Status readCount(ByteReader& reader, uint32_t cap, std::string_view what, uint32_t& out) {
  if (!reader.readU32(out)) return malformed(reader, what);
  if (out > cap || out > reader.remaining()) {
    return {StatusCode::kInvalidArgument,
            "malformed module: " + std::string(what) + " " + std::to_string(out) + " at offset " +
                std::to_string(reader.offset()) +
                " is larger than the bytes left or the limit of " + std::to_string(cap)};
  }
  return Status::ok();
}

// Ok when the reader is at its end, else malformed "end of <what>" (bytes left over).
inline Status expectEnd(const ByteReader& reader, std::string_view what) {
  return reader.atEnd() ? Status::ok() : malformed(reader, "end of " + std::string(what));
}

}  // namespace wop::wasm::binary
