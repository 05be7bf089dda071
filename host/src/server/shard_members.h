// The pure parts of sharding (server/sharding.h): the Lease names, which replicas are alive
// as their membership Leases show, and how many shards each should hold. No I/O, so every rule
// is tested on virtual time.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace wop::server {

// "<prefix>-shard-<i>": the Lease whose holder runs shard i.
std::string shardLeaseName(const std::string& prefix, int shard);
// The shard a Lease name stands for, or nullopt when it is not "<prefix>-shard-<i>" with
// 0 <= i < shards.
std::optional<int> shardOfLeaseName(const std::string& prefix, const std::string& name, int shards);
// "<prefix>-member-<identity>", the identity made a valid object name (lower case, '-' for
// anything else, at most 253 characters in all).
std::string memberLeaseName(const std::string& prefix, const std::string& identity);
bool isMemberLeaseName(const std::string& prefix, const std::string& name);

// How many shards a replica should hold: ceil(shards / alive), at least 1.
int fairShare(int shards, int alive);

// The other replicas' membership Leases as this one saw them. A replica is alive while its
// Lease has a holder and changed within its duration by our own clock (the rule the elector
// applies to a leader: remote timestamps are never compared with ours).
class ShardMembers {
 public:
  explicit ShardMembers(std::string selfLeaseName) : self_(std::move(selfLeaseName)) {}

  // A Lease was seen (added or updated). Only a new resourceVersion restarts its clock.
  void observe(const std::string& name, const std::string& resourceVersion,
               const std::string& holder, std::chrono::seconds duration, common::TimePoint now);
  void forget(const std::string& name);
  // This replica and every other one alive at now.
  int alive(common::TimePoint now) const;
  // Leases left by replicas gone for longer than staleAfter (crashed ones never delete theirs).
  std::vector<std::string> stale(common::TimePoint now, common::Duration staleAfter) const;

 private:
  struct Seen {
    std::string resourceVersion;
    bool held = false;
    std::chrono::seconds duration{0};
    common::TimePoint changedAt{};
  };
  const std::string self_;
  std::map<std::string, Seen> members_;
};

}  // namespace wop::server
