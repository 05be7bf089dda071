// client-go's EventSourceObjectSpamFilter (tools/record): a token bucket per key, burst 25,
// refilled by one token every 5 minutes. An Event whose key has no token left is dropped, so
// a flapping object cannot flood the API server (and etcd) with Events. The number of keys is
// bounded too: when full, a bucket that has refilled (as good as absent) goes first, else the
// one used longest ago (client-go keeps an LRU of 4096).
//
// Thread-safety: none; the recorder calls it under its lock.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace wop::server {

class EventSpamFilter {
 public:
  EventSpamFilter(int burst, common::Duration refillEvery, size_t maxKeys);

  // Takes a token from key's bucket; false when it has none (drop the Event).
  bool allow(const std::string& key, common::TimePoint now);
  size_t keys() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    common::TimePoint counted{};  // when tokens was last brought up to date
    common::TimePoint used{};     // the last allow() for its key
  };
  double tokensAt(const Bucket& bucket, common::TimePoint now) const;
  void makeRoom(common::TimePoint now);

  const double burst_;
  const common::Duration refillEvery_;
  const size_t maxKeys_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace wop::server
