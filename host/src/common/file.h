// Whole-file reads with a size cap, returning Status instead of throwing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace wop::common {

// Reads the file at path; fails with ResourceExhausted if it is larger than maxBytes.
Result<std::vector<uint8_t>> readFileBytes(const std::string& path, size_t maxBytes);

}  // namespace wop::common
