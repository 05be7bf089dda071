#include "common/memory_maps.h"

#include <fstream>

namespace wop::common {

std::optional<MemoryMaps> memoryMaps() {
  MemoryMaps result;
  std::ifstream limit("/proc/sys/vm/max_map_count");
  if (!(limit >> result.limit)) return std::nullopt;
  std::ifstream maps("/proc/self/maps");
  if (!maps) return std::nullopt;
  std::string line;
  while (std::getline(maps, line)) ++result.maps;
  return result;
}

std::string memoryMapsWarning(const MemoryMaps& maps) {
  if (maps.limit == 0 || maps.maps * 5 < maps.limit * 4) return "";
  return std::to_string(maps.maps) + " memory maps of the limit of " + std::to_string(maps.limit) +
         " (vm.max_map_count): each resident operator takes a few, and past the limit the host "
         "cannot allocate memory and ends; raise vm.max_map_count (sysctl) before adding more";
}

}  // namespace wop::common
