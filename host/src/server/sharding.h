// `wasm-operator run --leader-elect --shards K`: K shards, any number of host replicas, each
// operator run by the replica holding its shard. Operator X belongs to shard
// runtime::shardOf(X, K); shard i is the Lease "<id>-shard-<i>", held with the leader
// election's semantics and durations (server/leader_election.h). Every replica loads every
// operator and keeps its informers and queues warm, as a follower does, and takes keys only for
// the shards it holds, so taking a shard over relists nothing.
//
// Balance: each replica renews a membership Lease "<id>-member-<identity>"; the replicas alive
// (server/shard_members.h) give the fair share, ceil(K / alive). A replica
//  - takes a shard nobody holds (absent or released) only while it holds fewer than its share;
//  - takes a shard whose holder let it expire (a dead replica's) whatever it holds: running
//    every operator comes before balance, and a takeover never waits for membership to settle;
//  - holding more than its share, hands one shard back at a time: stops taking its keys, lets
//    its reconciles finish (at most half the renew deadline), releases the Lease; a replica
//    below its share takes it at once (each watches the Leases).
// Losing a shard (a renewal failed for the renew deadline) stops its keys at once. Unlike the
// single leader, the process does not exit: its other shards are fine. It campaigns for the
// shard again as a follower.
//
// Work that may wait on the API server (a hand-over, a new elector) runs on a thread of its
// own; the electors' timers run on another, so a slow release never delays a renewal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cache/shared_informers.h"
#include "common/status.h"
#include "common/timers.h"
#include "kube/client.h"
#include "runtime/operator_host.h"
#include "server/coordination.h"
#include "server/leader_election.h"
#include "server/shard_members.h"

namespace wop::server {

class Sharding final : public Coordination {
 public:
  // election names the Leases (leaseName is the prefix) and their durations; shards >= 2 and
  // equal to host.shardCount(). Stops host taking keys until shards are held. host and client
  // must outlive this.
  Sharding(runtime::OperatorHost& host, kube::Client& client, LeaderElectionConfig election,
           int shards);
  ~Sharding() override;
  Sharding(const Sharding&) = delete;
  Sharding& operator=(const Sharding&) = delete;

  common::Status start() override;
  // For a graceful shutdown, after the host drained: releases every shard held and deletes
  // the membership Lease, so the others rebalance at once.
  void stop() override;
  // For /readyz: every shard's Lease has been read, so who runs what is known.
  bool stateKnown() const override;
  std::vector<LeaseStatus> leases() const override;
  const std::string& identity() const { return election_.identity; }

 private:
  std::unique_ptr<LeaderElector> newShardElector(int shard);
  std::unique_ptr<LeaderElector> newMemberElector();
  bool mayTakeShard(bool expired) const;
  void watchLeases();
  void onLeaseSeen(const cache::ObjectPtr& lease);
  void onLeaseGone(const cache::ObjectPtr& lease);
  // The control thread: jobs posted by callbacks, and a rebalance every retry period.
  void post(std::function<void()> job);
  void controlLoop(std::stop_token stop);
  void rebalance();
  void handOver(int shard);
  // Replaces shard's elector with a fresh follower (after a hand-over or a loss).
  void campaignAgain(int shard);
  int held() const { return held_.load(); }

  runtime::OperatorHost& host_;
  kube::Client& client_;
  LeaderElectionConfig election_;  // identity filled in; leaseName is the prefix
  const int shards_;
  const std::string memberLease_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> held_{0};
  std::unique_ptr<std::atomic<bool>[]> leading_;      // per shard
  std::unique_ptr<std::atomic<bool>[]> handingOver_;  // per shard: a stop that is no loss

  mutable std::mutex membersMutex_;
  ShardMembers members_;

  mutable std::mutex electorsMutex_;  // guards the pointers, never held while one stops
  std::vector<std::unique_ptr<LeaderElector>> electors_;
  std::unique_ptr<LeaderElector> memberElector_;

  std::mutex jobsMutex_;
  std::condition_variable_any jobsCv_;
  std::deque<std::function<void()>> jobs_;

  cache::Subscription leaseWatch_;
  common::ThreadTimers timers_;  // the electors'
  std::jthread control_;         // last: started once everything above exists
};

}  // namespace wop::server
