#include "server/leadership.h"

#include <cstdlib>

#include "server/lease_lock.h"
#include "wop_abi.h"

namespace wop::server {
namespace {

using std::chrono::milliseconds;

constexpr const char* kDefaultLeaseName = "wasm-operator-leader";
// Each shard is a Lease every replica reads and may write: thousands would be API load
// without benefit (a shard holds many operators).
constexpr int64_t kMaxShards = 256;

}  // namespace

std::vector<Flag> leaderElectionFlags() {
  const LeaderElectionConfig defaults;
  constexpr auto kMaxPeriod = std::chrono::hours(1);
  return {
      Flag::onOff("leader-elect", "reconcile only while holding the leader Lease (replicas)")
          .withDefault(false),
      Flag::text("leader-election-id", "NAME", "the leader Lease's name")
          .withDefault(kDefaultLeaseName),
      Flag::text("leader-election-namespace", "NS",
                 "the leader Lease's namespace (default: the kubeconfig context's, in a Pod its "
                 "own)"),
      Flag::duration("leader-elect-lease-duration", "D",
                     "how long followers wait after the last renewal before taking over",
                     milliseconds(1000), kMaxPeriod)
          .withDefault(defaults.leaseDuration),
      Flag::duration("leader-elect-renew-deadline", "D",
                     "how long the leader tries to renew before it gives up", milliseconds(1),
                     kMaxPeriod)
          .withDefault(defaults.renewDeadline),
      Flag::duration("leader-elect-retry-period", "D",
                     "the wait between attempts to take or renew the Lease", milliseconds(1),
                     kMaxPeriod)
          .withDefault(defaults.retryPeriod),
      Flag::integer("shards", "K",
                    "with --leader-elect: split the operators between the replicas, K shard "
                    "Leases named <leader-election-id>-shard-<i>",
                    1, kMaxShards)
          .withDefault(1),
  };
}

common::Result<int> shardCount(const ParsedFlags& flags) {
  const int shards = static_cast<int>(flags.integer("shards").value_or(1));
  if (shards > 1 && !flags.onOff("leader-elect").value_or(false)) {
    return common::Status(common::StatusCode::kInvalidArgument,
                          "--shards " + std::to_string(shards) +
                              " needs --leader-elect: each shard is a Lease held by one replica");
  }
  return shards;
}

common::Result<std::optional<LeaderElectionConfig>> leaderElectionConfig(
    const ParsedFlags& flags, const kube::ClientConfig& clientConfig) {
  if (!flags.onOff("leader-elect").value_or(false)) return std::optional<LeaderElectionConfig>();
  LeaderElectionConfig config;
  config.leaseName = flags.text("leader-election-id").value_or(kDefaultLeaseName);
  config.leaseNamespace =
      flags.text("leader-election-namespace").value_or(clientConfig.defaultNamespace);
  if (auto d = flags.duration("leader-elect-lease-duration")) config.leaseDuration = *d;
  if (auto d = flags.duration("leader-elect-renew-deadline")) config.renewDeadline = *d;
  if (auto d = flags.duration("leader-elect-retry-period")) config.retryPeriod = *d;
  if (auto valid = validateLeaderElectionConfig(config); !valid.isOk()) {
    return valid.withContext("leader election");
  }
  return std::optional<LeaderElectionConfig>(std::move(config));
}

Leadership::Leadership(runtime::OperatorHost& host, kube::Client& client,
                       LeaderElectionConfig config)
    : host_(host), leaseName_(config.leaseName) {
  host_.setTakingKeys(false);
  LeaderCallbacks callbacks;
  callbacks.onStartedLeading = [this] {
    host_.log("", WOP_LOG_INFO, "became the leader: taking keys");
    host_.setTakingKeys(true);
  };
  callbacks.onStoppedLeading = [this] {
    host_.setTakingKeys(false);
    if (stopping_) return;
    // The lease may be someone else's already: not one more guest entry. The process ends, as
    // a controller-runtime manager's does; a restarted one campaigns again as a follower.
    host_.log("", WOP_LOG_ERROR, "lost the leader lease: exiting");
    std::_Exit(1);
  };
  callbacks.onNewLeader = [this](const std::string& identity) {
    host_.log("", WOP_LOG_INFO,
              identity.empty() ? "the leader released the lease" : "the leader is " + identity);
  };
  elector_ = std::make_unique<LeaderElector>(
      client, timers_, config, std::move(callbacks), [this](std::string_view message) {
        host_.log("", WOP_LOG_INFO, "leader election: " + std::string(message));
      });
  watchLease(config);
}

Leadership::~Leadership() {
  leaseWatch_.reset();  // no poke after this
  stop();
}

common::Status Leadership::start() {
  auto started = elector_->start();
  if (started.isOk()) host_.log("", WOP_LOG_INFO, "campaigning as " + elector_->identity());
  return started;
}

void Leadership::stop() {
  stopping_ = true;
  if (elector_) elector_->stop();
}

void Leadership::watchLease(const LeaderElectionConfig& config) {
  // A follower polls every retry period; a change of the Lease (a release above all) makes it
  // try at once, so a graceful handover takes a round trip, not up to 2.2 retry periods.
  cache::InformerKey key{leaseResource(), config.leaseNamespace, "",
                         "metadata.name=" + config.leaseName, true};
  auto poke = [this] {
    if (elector_ && !elector_->isLeader()) elector_->retryNow();
  };
  leaseWatch_ = host_.informers().subscribe(
      key, cache::Handlers{
               .onAdd = [poke](const cache::ObjectPtr&) { poke(); },
               .onUpdate = [poke](const cache::ObjectPtr&, const cache::ObjectPtr&) { poke(); },
               .onDelete = [poke](const cache::ObjectPtr&) { poke(); },
               .onSynced = {}});
}

}  // namespace wop::server
