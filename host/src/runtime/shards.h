// Which shard an operator belongs to when K host replicas split the operators between them
// (`wasm-operator run --shards K`, server/sharding.h). The answer depends on the name and K
// only, never on the process, version or machine, so replicas agree without talking.
#pragma once

#include <cstdint>
#include <string_view>

namespace wop::runtime {

// FNV-1a (64 bits) of the operator's name, modulo shards; 0 when shards <= 1.
inline int shardOf(std::string_view operatorName, int shards) {
  if (shards <= 1) return 0;
  uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : operatorName) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(shards));
}

}  // namespace wop::runtime
