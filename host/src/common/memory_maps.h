// The process's memory maps against the kernel's limit (vm.max_map_count, 65,530 by default).
// Each resident guest's linear memory is a few maps (docs/benchmarks/vm.md), and past the limit
// every mmap fails, malloc's among them, which ends the process: the host says so before.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace wop::common {

struct MemoryMaps {
  uint64_t maps = 0;   // lines of /proc/self/maps now
  uint64_t limit = 0;  // /proc/sys/vm/max_map_count
};

// nullopt when either cannot be read. Reads the whole maps file: call it now and then.
std::optional<MemoryMaps> memoryMaps();

// A warning when the maps reach 80% of the limit: what to do about it. Empty below that.
std::string memoryMapsWarning(const MemoryMaps& maps);

}  // namespace wop::common
