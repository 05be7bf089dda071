// Whole-file reads with a size cap and atomic writes, returning Status instead of throwing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace wop::common {

// Reads the file at path; fails with ResourceExhausted if it is larger than maxBytes.
Result<std::vector<uint8_t>> readFileBytes(const std::string& path, size_t maxBytes);

// Writes bytes to a temporary file beside path (mode 0600, never through a planted link) and
// renames it over path: readers see the old file or the whole new one. Safe from several
// threads and processes at once.
Status writeFileAtomically(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace wop::common
