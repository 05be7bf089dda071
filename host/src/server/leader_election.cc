#include "server/leader_election.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "common/backoff.h"
#include "server/lease_lock.h"

namespace wop::server {

namespace {

using common::Status;
using common::StatusCode;
using std::chrono::milliseconds;

// client-go's JitterFactor: a candidate waits retryPeriod * [1, 2.2) between attempts, so that
// candidates started together do not stay in step.
constexpr double kJitterFactor = 1.2;

void stderrLog(std::string_view message) {
  std::fprintf(stderr, "wasm-operator: leader election: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

}  // namespace

std::string defaultLeaderIdentity() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "unknown");
  }
  std::random_device device;
  const uint64_t suffix = (static_cast<uint64_t>(device()) << 32) ^ device();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(suffix));
  return std::string(host) + "_" + hex;
}

Status validateLeaderElectionConfig(const LeaderElectionConfig& config) {
  auto invalid = [](std::string message) {
    return Status(StatusCode::kInvalidArgument, "leader election: " + std::move(message));
  };
  if (config.leaseName.empty()) return invalid("no lease name");
  if (config.leaseNamespace.empty()) return invalid("no lease namespace");
  if (config.retryPeriod <= milliseconds(0)) return invalid("retryPeriod must be positive");
  if (config.leaseDuration < std::chrono::seconds(1)) {
    return invalid("leaseDuration must be at least 1s (the lease holds whole seconds)");
  }
  if (config.leaseDuration <= config.renewDeadline) {
    return invalid("leaseDuration must be greater than renewDeadline");
  }
  if (config.renewDeadline.count() <= kJitterFactor * config.retryPeriod.count()) {
    return invalid("renewDeadline must be greater than 1.2 * retryPeriod");
  }
  return Status::ok();
}

// A follower aims its attempt this long after the holder's lease should have run out, so the
// read finds it expired rather than a hair short of it.
constexpr auto kExpiryMargin = std::chrono::milliseconds(10);

class LeaderElector::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(kube::Client& client, common::Timers& timers, LeaderElectionConfig config,
       LeaderCallbacks callbacks, LeaderElectionLog log)
      : client_(client),
        timers_(timers),
        config_(std::move(config)),
        callbacks_(std::move(callbacks)),
        log_(log ? std::move(log) : LeaderElectionLog(stderrLog)),
        describe_(config_.leaseNamespace + "/" + config_.leaseName) {
    if (config_.identity.empty()) config_.identity = defaultLeaderIdentity();
  }

  Status start();
  void stop();
  void close();
  void retryNow();

  bool isLeader() const {
    std::lock_guard lock(mutex_);
    return leading_;
  }
  std::string leader() const {
    std::lock_guard lock(mutex_);
    return observedRecord_.holderIdentity;
  }
  bool observed() const {
    std::lock_guard lock(mutex_);
    return observed_;
  }
  bool running() const {
    std::lock_guard lock(mutex_);
    return phase_ == Phase::kRunning;
  }
  const std::string& identity() const { return config_.identity; }

 private:
  enum class Phase { kIdle, kRunning, kStopping, kDone };
  using Lock = std::unique_lock<std::mutex>;
  using Answer = kube::ApiResult<kube::HttpResponse>;

  // One attempt: read the lease, then create, take or renew it.
  void tick(uint64_t generation);
  void onRead(Answer answer);
  void onWritten(Answer answer);
  // The attempt is over: schedule the next one, or give up leading.
  void attemptDone(bool renewed);
  void onRenewDeadline(common::TimePoint renewedAt);
  // Writes the empty holder if we hold the lease, then finishes.
  void release();
  void onReleased(Answer answer);

  void observeLocked(Lease lease, common::TimePoint now);
  void reportLeaderLocked();
  std::string loseLocked(const std::string& reason);
  void finishLocked();
  LeaseRecord recordForUs(const LeaseRecord& seen, bool ours) const;
  void post(std::function<void()> callback);
  // Runs posted callbacks, outside the lock, one thread at a time.
  void drain();
  void send(kube::HttpRequest request, void (Core::*handler)(Answer));
  void scheduleTick(common::Duration delay);
  bool mayAcquire(bool expired) const { return !config_.mayAcquire || config_.mayAcquire(expired); }

  kube::Client& client_;
  common::Timers& timers_;
  LeaderElectionConfig config_;
  const LeaderCallbacks callbacks_;
  const LeaderElectionLog log_;
  const std::string describe_;  // "namespace/name", for log lines

  mutable std::mutex mutex_;
  std::condition_variable doneCv_;  // phase_ became kDone, or a drain ended
  Phase phase_ = Phase::kIdle;
  bool inFlight_ = false;  // one request at a time: its answer continues the loop
  // Only the latest scheduled attempt runs, so retryNow() starts no second loop.
  uint64_t tickGeneration_ = 0;
  bool retryAfterAttempt_ = false;  // retryNow() came while an attempt was in flight
  bool leading_ = false;
  bool observed_ = false;
  std::optional<Lease> lease_;  // the object last read or written, for the next write
  LeaseRecord observedRecord_;
  common::TimePoint observedTime_{};  // local time at which observedRecord_ last changed
  common::TimePoint attemptStarted_{};
  common::TimePoint lastRenew_{};  // when the last successful attempt started
  std::string reportedLeader_;
  std::deque<std::function<void()>> pending_;
  bool draining_ = false;
  std::thread::id drainer_;
  bool closed_ = false;  // the elector is gone: no callback may start
};

Status LeaderElector::Core::start() {
  if (auto valid = validateLeaderElectionConfig(config_); !valid.isOk()) return valid;
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kIdle) {
      return Status(StatusCode::kFailedPrecondition, "leader election: already started");
    }
    phase_ = Phase::kRunning;
  }
  log_("campaigning for lease " + describe_ + " as " + config_.identity);
  scheduleTick(common::Duration(0));
  return Status::ok();
}

void LeaderElector::Core::scheduleTick(common::Duration delay) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    generation = ++tickGeneration_;
  }
  timers_.after(delay, [weak = weak_from_this(), generation] {
    if (auto core = weak.lock()) core->tick(generation);
  });
}

void LeaderElector::Core::retryNow() {
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kRunning || leading_) return;
    if (inFlight_) {
      retryAfterAttempt_ = true;
      return;
    }
  }
  scheduleTick(common::Duration(0));
}

void LeaderElector::Core::send(kube::HttpRequest request, void (Core::*handler)(Answer)) {
  // No request outlives the deadline by which a leader must have renewed.
  request.timeout = config_.renewDeadline;
  client_.executeAsync(std::move(request), config_.requestOptions,
                       [weak = weak_from_this(), handler](Answer answer) {
                         if (auto core = weak.lock()) ((*core).*handler)(std::move(answer));
                       });
}

void LeaderElector::Core::tick(uint64_t generation) {
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kRunning || inFlight_ || generation != tickGeneration_) return;
    inFlight_ = true;
    attemptStarted_ = timers_.clock().now();
  }
  send(kube::getRequest(leaseResource(), config_.leaseNamespace, config_.leaseName), &Core::onRead);
}

LeaseRecord LeaderElector::Core::recordForUs(const LeaseRecord& seen, bool ours) const {
  LeaseRecord record;
  record.holderIdentity = config_.identity;
  record.leaseDurationSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(config_.leaseDuration).count();
  record.renewTime = timers_.clock().wallNow();
  record.acquireTime = ours && seen.acquireTime ? seen.acquireTime : record.renewTime;
  record.leaseTransitions = ours ? seen.leaseTransitions : seen.leaseTransitions + 1;
  return record;
}

void LeaderElector::Core::onRead(Answer answer) {
  Lock lock(mutex_);
  if (phase_ == Phase::kDone) return;
  const auto now = timers_.clock().now();
  std::string problem;
  if (!answer) {
    if (answer.error().reason != kube::ApiReason::kNotFound) {
      problem = "cannot read lease " + describe_ + ": " + answer.error().toString();
    } else if (phase_ == Phase::kRunning) {
      // Absent: whoever creates it first holds it (the others get AlreadyExists).
      LeaseRecord record = recordForUs(LeaseRecord{}, false);
      record.leaseTransitions = 0;
      lock.unlock();
      if (!mayAcquire(false)) {
        attemptDone(false);
        return;
      }
      send(kube::createRequest(leaseResource(), config_.leaseNamespace,
                               newLeaseBody(config_.leaseNamespace, config_.leaseName, record)),
           &Core::onWritten);
      return;
    }
  } else if (auto lease = parseLease(answer->body); !lease) {
    problem = "lease " + describe_ + " cannot be used: " + lease.status().message() +
              " (fix or delete it; not taking it meanwhile)";
  } else {
    observeLocked(std::move(*lease), now);
  }
  if (!problem.empty() || phase_ != Phase::kRunning) {
    lock.unlock();
    if (!problem.empty()) log_(problem);
    drain();
    attemptDone(false);
    return;
  }

  const LeaseRecord& seen = observedRecord_;
  const bool ours = seen.holderIdentity == config_.identity;
  if (leading_ && !ours) {
    std::string message = loseLocked("the lease is now held by " + seen.holderIdentity);
    lock.unlock();
    log_(message);
    drain();
    return;
  }
  const bool held = !seen.holderIdentity.empty() && !ours;
  if (held && observedTime_ + std::chrono::seconds(seen.leaseDurationSeconds) > now) {
    lock.unlock();
    drain();
    attemptDone(false);
    return;
  }
  const bool expired = held;  // held by another and past its duration (checked above)
  std::string body = updatedLeaseBody(*lease_, recordForUs(seen, ours));
  lock.unlock();
  drain();
  if (!ours && !mayAcquire(expired)) {
    attemptDone(false);
    return;
  }
  send(kube::updateRequest(leaseResource(), config_.leaseNamespace, config_.leaseName,
                           std::move(body)),
       &Core::onWritten);
}

void LeaderElector::Core::onWritten(Answer answer) {
  Lock lock(mutex_);
  if (phase_ == Phase::kDone) return;
  if (!answer) {
    const auto reason = answer.error().reason;
    std::string message =
        (reason == kube::ApiReason::kConflict || reason == kube::ApiReason::kAlreadyExists)
            ? "another candidate wrote lease " + describe_ + " first (" +
                  kube::apiReasonName(reason) + ")"
            : "cannot write lease " + describe_ + ": " + answer.error().toString();
    lock.unlock();
    log_(message);
    attemptDone(false);
    return;
  }
  const auto now = timers_.clock().now();
  std::string message;
  if (auto written = parseLease(answer->body); written) {
    observeLocked(std::move(*written), now);
  } else {
    // The server took the write; only its answer is odd. Read afresh next time.
    message = "lease " + describe_ +
              " written, but the answer cannot be used: " + written.status().message();
    lease_.reset();
    observedRecord_.holderIdentity = config_.identity;
    observedTime_ = now;
    reportLeaderLocked();
  }
  // The server applied the write after the attempt started, and others count the lease from
  // when they see it: counting our deadline from the start keeps us on the safe side of theirs
  // however slow the answer was.
  lastRenew_ = attemptStarted_;
  if (phase_ == Phase::kRunning) {
    if (!leading_) {
      leading_ = true;
      message += (message.empty() ? "" : "; ") + std::string("leading with lease ") + describe_ +
                 " as " + config_.identity;
      if (callbacks_.onStartedLeading) post(callbacks_.onStartedLeading);
    }
    timers_.at(lastRenew_ + config_.renewDeadline, [weak = weak_from_this(), at = lastRenew_] {
      if (auto core = weak.lock()) core->onRenewDeadline(at);
    });
  }
  lock.unlock();
  if (!message.empty()) log_(message);
  drain();
  attemptDone(true);
}

void LeaderElector::Core::attemptDone(bool renewed) {
  Lock lock(mutex_);
  inFlight_ = false;
  if (phase_ == Phase::kStopping) {
    lock.unlock();
    release();
    return;
  }
  if (phase_ != Phase::kRunning) return;
  const auto now = timers_.clock().now();
  if (leading_ && !renewed && now - lastRenew_ >= config_.renewDeadline) {
    std::string message = loseLocked("could not renew within the renew deadline");
    lock.unlock();
    log_(message);
    drain();
    return;
  }
  const bool leading = leading_;
  const bool retryAtOnce = std::exchange(retryAfterAttempt_, false) && !leading;
  // A follower that knows when the holder's lease runs out (by its own clock) tries right then
  // if that comes before its next jittered retry: a dead leader is replaced one lease duration
  // after its last renewal, not up to 2.2 retry periods later.
  std::optional<common::Duration> untilExpiry;
  if (!leading && !observedRecord_.holderIdentity.empty() &&
      observedRecord_.holderIdentity != config_.identity) {
    const auto expiry = observedTime_ + std::chrono::seconds(observedRecord_.leaseDurationSeconds);
    // Past it already (mayAcquire declined an expired lease): the usual retry, no busy loop.
    // Judged without the margin, as the attempt judges expiry: a retry that fell inside the
    // margin, asked and declined, was aimed at the margin's end and asked again at once (the
    // unit test MayAcquireIsToldAnExpiredLeaseFromAReleasedOne failed 14 times in 2,000).
    if (expiry > now) untilExpiry = expiry + kExpiryMargin - now;
  }
  lock.unlock();
  if (retryAtOnce) {
    scheduleTick(common::Duration(0));
  } else if (leading) {
    scheduleTick(config_.retryPeriod);
  } else {
    const double factor = 1.0 + kJitterFactor * common::randomUnit();
    auto delay = std::chrono::duration_cast<common::Duration>(config_.retryPeriod * factor);
    if (untilExpiry && *untilExpiry < delay) delay = *untilExpiry;
    scheduleTick(delay);
  }
}

void LeaderElector::Core::onRenewDeadline(common::TimePoint renewedAt) {
  Lock lock(mutex_);
  if (phase_ != Phase::kRunning || !leading_ || lastRenew_ != renewedAt) return;
  std::string message = loseLocked("could not renew within the renew deadline");
  lock.unlock();
  log_(message);
  drain();
}

void LeaderElector::Core::release() {
  Lock lock(mutex_);
  if (phase_ != Phase::kStopping || inFlight_) return;  // an answer in flight comes back here
  const bool ours = lease_ && observedRecord_.holderIdentity == config_.identity;
  if (!config_.releaseOnStop || !ours) {
    finishLocked();
    lock.unlock();
    drain();
    return;
  }
  inFlight_ = true;
  // client-go's release: nobody holds it, and what is left expires in a second for candidates
  // that do not know an empty holder is free.
  LeaseRecord released;
  released.leaseDurationSeconds = 1;
  released.acquireTime = released.renewTime = timers_.clock().wallNow();
  released.leaseTransitions = observedRecord_.leaseTransitions;
  std::string body = updatedLeaseBody(*lease_, released);
  lock.unlock();
  send(kube::updateRequest(leaseResource(), config_.leaseNamespace, config_.leaseName,
                           std::move(body)),
       &Core::onReleased);
}

void LeaderElector::Core::onReleased(Answer answer) {
  Lock lock(mutex_);
  if (phase_ == Phase::kDone) return;
  std::string message;
  if (!answer) {
    message = "cannot release lease " + describe_ + ": " + answer.error().toString() +
              " (it expires on its own)";
  } else {
    message = "released lease " + describe_;
    if (auto lease = parseLease(answer->body); lease) {
      observeLocked(std::move(*lease), timers_.clock().now());
    }
  }
  inFlight_ = false;
  finishLocked();
  lock.unlock();
  log_(message);
  drain();
}

void LeaderElector::Core::observeLocked(Lease lease, common::TimePoint now) {
  if (!observed_ || !(lease.record == observedRecord_)) {
    observedRecord_ = lease.record;
    observedTime_ = now;
  }
  lease_ = std::move(lease);
  observed_ = true;
  reportLeaderLocked();
}

void LeaderElector::Core::reportLeaderLocked() {
  if (observedRecord_.holderIdentity == reportedLeader_) return;
  reportedLeader_ = observedRecord_.holderIdentity;
  if (callbacks_.onNewLeader) {
    post([callback = callbacks_.onNewLeader, leader = reportedLeader_] { callback(leader); });
  }
}

std::string LeaderElector::Core::loseLocked(const std::string& reason) {
  finishLocked();
  return "stopped leading with lease " + describe_ + ": " + reason;
}

void LeaderElector::Core::finishLocked() {
  if (leading_) {
    leading_ = false;
    if (callbacks_.onStoppedLeading) post(callbacks_.onStoppedLeading);
  }
  phase_ = Phase::kDone;
  doneCv_.notify_all();
}

void LeaderElector::Core::post(std::function<void()> callback) {
  pending_.push_back(std::move(callback));
}

void LeaderElector::Core::drain() {
  Lock lock(mutex_);
  if (draining_) return;  // the thread draining runs what we posted, in order
  draining_ = true;
  drainer_ = std::this_thread::get_id();
  while (!pending_.empty() && !closed_) {
    auto callback = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    try {
      callback();
    } catch (const std::exception& e) {
      log_(std::string("a leader election callback failed: ") + e.what());
    } catch (...) {
      log_("a leader election callback failed");
    }
    lock.lock();
  }
  draining_ = false;
  drainer_ = {};
  doneCv_.notify_all();
}

void LeaderElector::Core::stop() {
  Lock lock(mutex_);
  if (phase_ == Phase::kIdle) {
    phase_ = Phase::kDone;
    return;
  }
  if (phase_ == Phase::kRunning) {
    phase_ = Phase::kStopping;
    if (!inFlight_) {
      lock.unlock();
      release();
      lock.lock();
    }
  }
  // Waiting on the I/O thread would block the answer; waiting in a callback could block the
  // attempt that ran it.
  const bool canWait = !client_.transport().onIoThread() && drainer_ != std::this_thread::get_id();
  if (phase_ == Phase::kStopping && canWait) {
    const bool done = doneCv_.wait_for(lock, config_.renewDeadline + config_.retryPeriod,
                                       [this] { return phase_ == Phase::kDone; });
    if (!done) {
      finishLocked();
      lock.unlock();
      log_("gave up waiting for the release of lease " + describe_);
      lock.lock();
    }
  }
  lock.unlock();
  drain();
}

void LeaderElector::Core::close() {
  stop();
  Lock lock(mutex_);
  // Callbacks posted before (onStoppedLeading among them) run to the end, on whichever thread
  // drains them: they may use what the owner destroys next. Unless that thread is this one.
  doneCv_.wait(lock, [this] {
    return drainer_ == std::this_thread::get_id() || (!draining_ && pending_.empty());
  });
  closed_ = true;
  pending_.clear();
}

LeaderElector::LeaderElector(kube::Client& client, common::Timers& timers,
                             LeaderElectionConfig config, LeaderCallbacks callbacks,
                             LeaderElectionLog log)
    : core_(std::make_shared<Core>(client, timers, std::move(config), std::move(callbacks),
                                   std::move(log))) {}

LeaderElector::~LeaderElector() { core_->close(); }

Status LeaderElector::start() { return core_->start(); }
void LeaderElector::retryNow() { core_->retryNow(); }
void LeaderElector::stop() { core_->stop(); }
bool LeaderElector::isLeader() const { return core_->isLeader(); }
std::string LeaderElector::leader() const { return core_->leader(); }
bool LeaderElector::observed() const { return core_->observed(); }
bool LeaderElector::running() const { return core_->running(); }
const std::string& LeaderElector::identity() const { return core_->identity(); }

}  // namespace wop::server
