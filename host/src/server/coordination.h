// What `wasm-operator run` needs of the replicas' coordination: the single leader
// (server/leadership.h) or shards (server/sharding.h) decides when this replica takes keys.
#pragma once

#include <vector>

#include "common/status.h"
#include "server/leader_election.h"

namespace wop::server {

class Coordination {
 public:
  virtual ~Coordination() = default;
  virtual common::Status start() = 0;
  // For a graceful shutdown, after the host drained: releases what this replica holds.
  virtual void stop() = 0;
  // For /readyz: who runs what is known.
  virtual bool stateKnown() const = 0;
  // For the metrics page.
  virtual std::vector<LeaseStatus> leases() const = 0;
};

}  // namespace wop::server
