// `wasm-operator run --leader-elect`: several replicas of the host, one of which reconciles.
// Every replica loads its operators and keeps their informers and queues warm; only the holder
// of the Lease (server/leader_election.h, client-go's semantics) lets them take keys, so a
// takeover relists nothing and starts with the queues the follower already holds.
//
//  - Losing the lease stops the host taking keys at once and ends the process (exit 1), as a
//    controller-runtime manager does: the restarted process campaigns again as a follower.
//  - A graceful stop (SIGTERM) releases the lease after the last reconcile finished.
//  - Followers watch the Lease, so a released lease is taken at once, not at the next retry.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "cache/shared_informers.h"
#include "common/status.h"
#include "common/timers.h"
#include "kube/client.h"
#include "runtime/operator_host.h"
#include "server/coordination.h"
#include "server/flag_set.h"
#include "server/leader_election.h"

namespace wop::server {

// --leader-elect, --leader-election-id, --leader-election-namespace and the three durations
// (kube-controller-manager's names), with client-go's defaults; and --shards.
std::vector<Flag> leaderElectionFlags();

// The election's configuration, or nullopt when --leader-elect is off. The namespace defaults
// to the kubeconfig context's (in a Pod: its own). Refuses durations client-go would refuse.
common::Result<std::optional<LeaderElectionConfig>> leaderElectionConfig(
    const ParsedFlags& flags, const kube::ClientConfig& clientConfig);

// --shards (1 unless given); more than one needs --leader-elect.
common::Result<int> shardCount(const ParsedFlags& flags);

class Leadership final : public Coordination {
 public:
  // Stops host taking keys until this replica leads. host and its client must outlive this.
  Leadership(runtime::OperatorHost& host, kube::Client& client, LeaderElectionConfig config);
  ~Leadership() override;

  common::Status start() override;
  // For a graceful shutdown: releases the lease if leading; losing it is then no failure.
  void stop() override;
  // For /readyz: the replica knows who leads (it has read or written the Lease).
  bool stateKnown() const override { return elector_->observed(); }
  bool leading() const { return elector_->isLeader(); }
  std::vector<LeaseStatus> leases() const override { return {{leaseName_, leading()}}; }

 private:
  void watchLease(const LeaderElectionConfig& config);

  runtime::OperatorHost& host_;
  const std::string leaseName_;
  std::atomic<bool> stopping_{false};
  common::ThreadTimers timers_;
  std::unique_ptr<LeaderElector> elector_;
  cache::Subscription leaseWatch_;
};

}  // namespace wop::server
