// The one place where the host touches a guest's linear memory. Every pointer and length a
// guest hands over is checked here against the memory's current size, overflow-safe.
//
// A GuestMemory is a view for the duration of one host call: memory can grow (and move)
// whenever the guest runs, so never keep one across a call into the guest.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace wop::wasm {

class GuestMemory {
 public:
  explicit GuestMemory(std::span<uint8_t> bytes) : bytes_(bytes) {}

  uint64_t size() const { return bytes_.size(); }

  // The range [ptr, ptr+len) if it lies inside memory, else nullopt.
  std::optional<std::span<const uint8_t>> read(uint32_t ptr, uint32_t len) const {
    if (!contains(ptr, len)) return std::nullopt;
    return std::span<const uint8_t>(bytes_.data() + ptr, len);
  }

  std::optional<std::string_view> readString(uint32_t ptr, uint32_t len) const {
    auto bytes = read(ptr, len);
    if (!bytes) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  }

  // Little-endian u32 at ptr (wasm is little-endian), decoded with memcpy.
  std::optional<uint32_t> readU32(uint32_t ptr) const {
    auto bytes = read(ptr, sizeof(uint32_t));
    if (!bytes) return std::nullopt;
    uint32_t value;
    std::memcpy(&value, bytes->data(), sizeof value);
    return value;
  }

  // Copies data to [ptr, ptr+data.size()); false (and nothing written) if out of bounds.
  bool write(uint32_t ptr, std::span<const uint8_t> data) {
    if (data.size() > UINT32_MAX || !contains(ptr, static_cast<uint32_t>(data.size())))
      return false;
    if (!data.empty()) std::memcpy(bytes_.data() + ptr, data.data(), data.size());
    return true;
  }

  bool writeU32(uint32_t ptr, uint32_t value) {
    uint8_t raw[sizeof value];
    std::memcpy(raw, &value, sizeof value);
    return write(ptr, raw);
  }

  bool writeU64(uint32_t ptr, uint64_t value) {
    uint8_t raw[sizeof value];
    std::memcpy(raw, &value, sizeof value);
    return write(ptr, raw);
  }

 private:
  // len <= size && ptr <= size - len: no overflow for any 32-bit inputs.
  bool contains(uint32_t ptr, uint32_t len) const {
    const uint64_t size = bytes_.size();
    return len <= size && ptr <= size - len;
  }

  std::span<uint8_t> bytes_;
};

}  // namespace wop::wasm
