// Guest-like linear memory for snapshot tests: a private anonymous mapping (page aligned, zero
// filled), unmapped when the test ends, plus helpers to fill pages with recognisable bytes.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <span>

#include "snapshot/layer_format.h"

namespace wop::snapshot::testing {

class AnonymousMemory {
 public:
  explicit AnonymousMemory(uint64_t pages) : bytes_(pages * kPageBytes) {
    void* at = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (at != MAP_FAILED) data_ = static_cast<uint8_t*>(at);
  }
  ~AnonymousMemory() {
    if (data_ != nullptr) ::munmap(data_, bytes_);
  }
  AnonymousMemory(const AnonymousMemory&) = delete;
  AnonymousMemory& operator=(const AnonymousMemory&) = delete;

  bool valid() const { return data_ != nullptr; }
  uint8_t* data() const { return data_; }
  uint64_t size() const { return bytes_; }
  std::span<uint8_t> span() const { return {data_, bytes_}; }
  uint8_t* page(uint64_t n) const { return data_ + n * kPageBytes; }

  // Fills page n with bytes that differ per page and per seed, and are never all zero.
  void fillPage(uint64_t n, uint8_t seed) const {
    for (uint64_t i = 0; i < kPageBytes; ++i) {
      page(n)[i] = static_cast<uint8_t>((n * 31 + i * 7 + seed) | 1);
    }
  }
  void zeroPage(uint64_t n) const { std::memset(page(n), 0, kPageBytes); }

 private:
  uint64_t bytes_;
  uint8_t* data_ = nullptr;
};

}  // namespace wop::snapshot::testing
