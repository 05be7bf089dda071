#include "server/sharding.h"

#include <chrono>
#include <utility>

#include "runtime/shards.h"
#include "server/lease_lock.h"
#include "wop_abi.h"

namespace wop::server {

namespace {

using common::Status;
using common::StatusCode;

// A member Lease unchanged for this many lease durations belongs to a replica that is gone.
constexpr int kStaleAfterLeases = 2;

LeaderElectionConfig withIdentity(LeaderElectionConfig config) {
  if (config.identity.empty()) config.identity = defaultLeaderIdentity();
  return config;
}

}  // namespace

Sharding::Sharding(runtime::OperatorHost& host, kube::Client& client, LeaderElectionConfig election,
                   int shards)
    : host_(host),
      client_(client),
      election_(withIdentity(std::move(election))),
      shards_(shards),
      memberLease_(memberLeaseName(election_.leaseName, election_.identity)),
      leading_(std::make_unique<std::atomic<bool>[]>(static_cast<size_t>(shards))),
      handingOver_(std::make_unique<std::atomic<bool>[]>(static_cast<size_t>(shards))),
      members_(memberLease_),
      timers_(common::SystemClock::instance(), [this](const char* what) {
        host_.log("", WOP_LOG_ERROR, std::string("sharding: a timer failed: ") + what);
      }) {
  host_.setTakingKeys(false);
  for (int i = 0; i < shards_; ++i) {
    leading_[i] = false;
    handingOver_[i] = false;
    electors_.push_back(newShardElector(i));
  }
  memberElector_ = newMemberElector();
  watchLeases();
  control_ = std::jthread([this](std::stop_token stop) { controlLoop(stop); });
}

Sharding::~Sharding() {
  leaseWatch_.reset();  // no poke after this
  stop();
  std::lock_guard lock(electorsMutex_);
  electors_.clear();
  memberElector_.reset();
}

std::unique_ptr<LeaderElector> Sharding::newShardElector(int shard) {
  LeaderElectionConfig config = election_;
  config.leaseName = shardLeaseName(election_.leaseName, shard);
  config.mayAcquire = [this](bool expired) { return mayTakeShard(expired); };
  LeaderCallbacks callbacks;
  callbacks.onStartedLeading = [this, shard] {
    leading_[shard] = true;
    ++held_;
    host_.log("", WOP_LOG_INFO,
              "took shard " + std::to_string(shard) + ": taking its keys (" +
                  std::to_string(held_.load()) + " of " + std::to_string(shards_) + " held)");
    host_.setTakingKeys(shard, true);
  };
  callbacks.onStoppedLeading = [this, shard] {
    host_.setTakingKeys(shard, false);
    leading_[shard] = false;
    --held_;
    if (stopping_ || handingOver_[shard]) return;
    // The lease may be someone else's already: not one more guest entry for this shard.
    host_.log("", WOP_LOG_ERROR,
              "lost shard " + std::to_string(shard) + ": stopped its keys, campaigning again");
    post([this, shard] { campaignAgain(shard); });
  };
  const std::string name = config.leaseName;
  return std::make_unique<LeaderElector>(
      client_, timers_, std::move(config), std::move(callbacks),
      [this, name](std::string_view message) {
        host_.log("", WOP_LOG_DEBUG, "shard lease " + name + ": " + std::string(message));
      });
}

std::unique_ptr<LeaderElector> Sharding::newMemberElector() {
  // A Lease of our own that nobody else writes: the elector serves as its heartbeat, and
  // recreates it if someone deleted it as stale while we could not reach the API server.
  LeaderElectionConfig config = election_;
  config.leaseName = memberLease_;
  config.releaseOnStop = false;  // stop() deletes it
  LeaderCallbacks callbacks;
  callbacks.onStoppedLeading = [this] {
    if (stopping_) return;
    host_.log("", WOP_LOG_WARN, "could not renew the membership lease; renewing it again");
    post([this] {
      auto fresh = newMemberElector();
      std::unique_ptr<LeaderElector> old;
      {
        std::lock_guard lock(electorsMutex_);
        old = std::exchange(memberElector_, std::move(fresh));
      }
      old.reset();
      std::lock_guard lock(electorsMutex_);
      (void)memberElector_->start();
    });
  };
  return std::make_unique<LeaderElector>(
      client_, timers_, std::move(config), std::move(callbacks), [this](std::string_view message) {
        host_.log("", WOP_LOG_DEBUG, "membership lease: " + std::string(message));
      });
}

Status Sharding::start() {
  std::lock_guard lock(electorsMutex_);
  if (auto started = memberElector_->start(); !started.isOk()) return started;
  for (auto& elector : electors_) {
    if (auto started = elector->start(); !started.isOk()) return started;
  }
  host_.log("", WOP_LOG_INFO,
            "campaigning as " + election_.identity + " for " + std::to_string(shards_) +
                " shards (leases " + election_.leaseNamespace + "/" + election_.leaseName +
                "-shard-*)");
  return Status::ok();
}

void Sharding::stop() {
  if (stopping_.exchange(true)) return;
  // First the control thread (a hand-over in progress sees stopping_ and ends soon): from then
  // on nothing replaces an elector, so the pointers below stay valid.
  control_.request_stop();
  jobsCv_.notify_all();
  if (control_.joinable()) control_.join();
  std::vector<LeaderElector*> electors;
  LeaderElector* member = nullptr;
  {
    std::lock_guard lock(electorsMutex_);
    for (auto& e : electors_) electors.push_back(e.get());
    member = memberElector_.get();
  }
  // Leaving the membership first: the others count one replica fewer, so their share has
  // grown by the time our shards are released, and they take them at once.
  if (member) member->stop();
  auto deleted =
      client_.execute(kube::deleteRequest(leaseResource(), election_.leaseNamespace, memberLease_),
                      election_.requestOptions);
  if (!deleted && deleted.error().reason != kube::ApiReason::kNotFound) {
    host_.log("", WOP_LOG_WARN,
              "could not delete the membership lease: " + deleted.error().toString());
  }
  for (auto* e : electors) e->stop();  // each releases its shard if held
}

bool Sharding::stateKnown() const {
  std::lock_guard lock(electorsMutex_);
  for (const auto& e : electors_) {
    if (!e->observed()) return false;
  }
  return true;
}

std::vector<LeaseStatus> Sharding::leases() const {
  std::vector<LeaseStatus> out;
  for (int i = 0; i < shards_; ++i) {
    out.push_back({shardLeaseName(election_.leaseName, i), leading_[i].load()});
  }
  return out;
}

bool Sharding::mayTakeShard(bool expired) const {
  if (stopping_) return false;
  if (expired) return true;  // a dead replica's shard: its operators run again first
  int alive = 1;
  {
    std::lock_guard lock(membersMutex_);
    alive = members_.alive(timers_.clock().now());
  }
  return held() < fairShare(shards_, alive);
}

void Sharding::watchLeases() {
  cache::InformerKey key{leaseResource(), election_.leaseNamespace, "", "", false};
  leaseWatch_ = host_.informers().subscribe(
      key,
      cache::Handlers{.onAdd = [this](const cache::ObjectPtr& lease) { onLeaseSeen(lease); },
                      .onUpdate = [this](const cache::ObjectPtr&,
                                         const cache::ObjectPtr& lease) { onLeaseSeen(lease); },
                      .onDelete = [this](const cache::ObjectPtr& lease) { onLeaseGone(lease); },
                      .onSynced = {}});
}

void Sharding::onLeaseSeen(const cache::ObjectPtr& object) {
  const std::string& prefix = election_.leaseName;
  const bool member = isMemberLeaseName(prefix, object->name);
  const auto shard = shardOfLeaseName(prefix, object->name, shards_);
  if (!member && !shard) return;
  auto lease = parseLease(object->json);
  if (!lease) {
    host_.log("", WOP_LOG_WARN,
              "lease " + object->name + " cannot be used: " + lease.status().message());
    return;
  }
  if (member) {
    const auto now = timers_.clock().now();
    int before = 0;
    int after = 0;
    {
      std::lock_guard lock(membersMutex_);
      before = members_.alive(now);
      members_.observe(object->name, lease->resourceVersion, lease->record.holderIdentity,
                       std::chrono::seconds(lease->record.leaseDurationSeconds), now);
      after = members_.alive(now);
    }
    if (before != after) post([this] { rebalance(); });
    return;
  }
  // A released shard is taken at once by a replica below its share, not at its next retry.
  if (lease->record.holderIdentity.empty()) {
    std::lock_guard lock(electorsMutex_);
    electors_[*shard]->retryNow();
  }
}

void Sharding::onLeaseGone(const cache::ObjectPtr& object) {
  const std::string& prefix = election_.leaseName;
  if (isMemberLeaseName(prefix, object->name)) {
    {
      std::lock_guard lock(membersMutex_);
      members_.forget(object->name);
    }
    // A replica left: our share may have grown, and its shards are about to be released.
    {
      std::lock_guard lock(electorsMutex_);
      for (auto& elector : electors_) elector->retryNow();
    }
    post([this] { rebalance(); });
  } else if (auto shard = shardOfLeaseName(prefix, object->name, shards_)) {
    std::lock_guard lock(electorsMutex_);
    electors_[*shard]->retryNow();
  }
}

void Sharding::post(std::function<void()> job) {
  {
    std::lock_guard lock(jobsMutex_);
    jobs_.push_back(std::move(job));
  }
  jobsCv_.notify_one();
}

void Sharding::controlLoop(std::stop_token stop) {
  auto nextRebalance = std::chrono::steady_clock::now() + election_.retryPeriod;
  while (!stop.stop_requested()) {
    std::function<void()> job;
    {
      std::unique_lock lock(jobsMutex_);
      jobsCv_.wait_until(lock, stop, nextRebalance, [this] { return !jobs_.empty(); });
      if (stop.stop_requested()) return;
      if (!jobs_.empty()) {
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
    }
    if (stopping_) continue;
    // The error boundary of this thread: a failing job is reported, sharding goes on.
    try {
      if (job) {
        job();
      } else {
        rebalance();
        nextRebalance = std::chrono::steady_clock::now() + election_.retryPeriod;
      }
    } catch (const std::exception& e) {
      host_.log("", WOP_LOG_ERROR, std::string("sharding: ") + e.what());
    }
  }
}

void Sharding::rebalance() {
  const auto now = timers_.clock().now();
  int alive = 1;
  std::vector<std::string> stale;
  {
    std::lock_guard lock(membersMutex_);
    alive = members_.alive(now);
    stale = members_.stale(now, election_.leaseDuration * kStaleAfterLeases);
  }
  for (const auto& name : stale) {
    host_.log("", WOP_LOG_INFO, "deleting the membership lease of a replica gone: " + name);
    client_.executeAsync(kube::deleteRequest(leaseResource(), election_.leaseNamespace, name),
                         election_.requestOptions, [](kube::ApiResult<kube::HttpResponse>) {});
  }
  const int share = fairShare(shards_, alive);
  if (held() <= share) return;
  for (int shard = shards_ - 1; shard >= 0; --shard) {
    if (!leading_[shard]) continue;
    host_.log("", WOP_LOG_INFO,
              "holding " + std::to_string(held()) + " shards, " + std::to_string(share) +
                  " each for " + std::to_string(alive) + " replicas: handing shard " +
                  std::to_string(shard) + " over");
    handOver(shard);
    return;  // one at a time: the next round sees the others' answer
  }
}

void Sharding::handOver(int shard) {
  handingOver_[shard] = true;
  host_.setTakingKeys(shard, false);
  // The lease is still ours and renewed meanwhile; half the renew deadline keeps the wait
  // well inside what a renewal may take.
  const auto left =
      runtime::awaitReconciles([this, shard] { return host_.reconcilesInFlight(shard); },
                               election_.renewDeadline / 2, &stopping_);
  if (left > 0) {
    host_.log("", WOP_LOG_WARN,
              std::to_string(left) + " reconcile(s) of shard " + std::to_string(shard) +
                  " still in flight at its hand-over: their keys run again on the next holder");
  }
  campaignAgain(shard);
  handingOver_[shard] = false;
}

void Sharding::campaignAgain(int shard) {
  auto fresh = newShardElector(shard);
  std::unique_ptr<LeaderElector> old;
  {
    std::lock_guard lock(electorsMutex_);
    old = std::exchange(electors_[shard], std::move(fresh));
  }
  old->stop();  // releases the lease if still held; waits for the answer
  old.reset();
  if (stopping_) return;
  std::lock_guard lock(electorsMutex_);
  (void)electors_[shard]->start();
}

}  // namespace wop::server
