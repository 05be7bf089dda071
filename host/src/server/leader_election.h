// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics and defaults
// (tools/leaderelection), so that a wasm-operator host and a client-go process agree on who
// leads when they share a Lease:
//
//  - A candidate takes the lease when it is absent (create), released (empty holder), held by
//    itself, or expired by the candidate's own clock: the local monotonic time at which it last
//    saw the record change, plus the record's leaseDurationSeconds, is past. Remote timestamps
//    are never compared with local ones, so clock skew between hosts does not matter.
//  - Writes carry the resourceVersion that was read: a 409 means another candidate won this
//    round. leaseTransitions grows by one whenever the holder changes.
//  - Candidates retry every retryPeriod, jittered by up to 1.2 times it (client-go's
//    JitterFactor); the leader renews every retryPeriod. A leader that has not renewed for
//    renewDeadline gives up at once, even with a request still in flight, so that it stops
//    before anyone may take over (leaseDuration > renewDeadline). A leader that sees another
//    holder in the lease gives up at once as well.
//  - After losing the lease the elector ends: it never tries to take it again on its own.
//    The caller decides what to do (client-go users exit).
//  - stop() releases the lease if leading (client-go's ReleaseOnCancel): the record gets an
//    empty holder and leaseDurationSeconds 1, so a follower takes over at its next retry.
//
// Why no thread of its own: every request is sent with Client::executeAsync and its answer
// handled on the client's I/O thread; waiting is a timer on common::Timers. No thread blocks
// on the API server, and the renew deadline is a timer too, so a hung request cannot keep a
// leader that should have stopped. In tests the whole loop runs on ManualTimers and a fake
// transport, on virtual time.
//
// Callbacks run one at a time and in order, on the client's I/O thread, the timers' thread,
// or the thread calling stop(); never under the elector's lock, so they may call any method of
// the elector (stop() included). They must be short and must not block (post the work
// elsewhere). Every onStartedLeading is followed by exactly one onStoppedLeading (lost, or
// stop()). No callback starts after the destructor returns.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/timers.h"
#include "kube/client.h"

namespace wop::server {

struct LeaderElectionConfig {
  std::string leaseNamespace;
  std::string leaseName;
  // Who we are in the lease; unique per process. Empty: defaultLeaderIdentity().
  std::string identity;
  // client-go's defaults. The lease is written in whole seconds (at least 1).
  std::chrono::milliseconds leaseDuration{15'000};
  std::chrono::milliseconds renewDeadline{10'000};
  std::chrono::milliseconds retryPeriod{2'000};
  // Release the lease on stop() (client-go's ReleaseOnCancel). Off: a stopped leader leaves
  // the lease to expire, as a crashed one would.
  bool releaseOnStop = true;
  // Sent with every request (e.g. the QPS flow); no impersonation: the host acts as itself.
  kube::RequestOptions requestOptions;
  // Asked before taking a lease that nobody holds (absent or released: expired false) or whose
  // holder let it run out (expired true); false leaves it to the other candidates this round.
  // Renewing our own lease is never asked. Empty: always take (client-go). Runs without the
  // elector's lock on the client's I/O thread; it must be quick and must not call the elector.
  std::function<bool(bool expired)> mayAcquire;
};

struct LeaderCallbacks {
  std::function<void()> onStartedLeading;
  std::function<void()> onStoppedLeading;
  // The holder seen in the lease changed; "" when it was released.
  std::function<void(const std::string& identity)> onNewLeader;
};

// A Lease this replica campaigns for, for the metrics page (client-go's
// leader_election_master_status).
struct LeaseStatus {
  std::string name;
  bool leading = false;
};

// One line of what the elector did or what went wrong (e.g. a malformed Lease).
using LeaderElectionLog = std::function<void(std::string_view message)>;

// "<hostname>_<16 random hex digits>", as client-go users build theirs.
std::string defaultLeaderIdentity();

// The rules client-go checks: leaseDuration > renewDeadline > 1.2 * retryPeriod > 0, a lease
// of at least one second, a lease name and namespace.
common::Status validateLeaderElectionConfig(const LeaderElectionConfig& config);

class LeaderElector {
 public:
  // client and timers must outlive the elector; answers and timers that come after it is gone
  // do nothing (they hold only a weak reference). log defaults to stderr.
  LeaderElector(kube::Client& client, common::Timers& timers, LeaderElectionConfig config,
                LeaderCallbacks callbacks, LeaderElectionLog log = {});
  // stop(), then waits for a callback running on another thread to return.
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts campaigning (the first attempt is due at once). Once only; an invalid config is
  // refused.
  [[nodiscard]] common::Status start();
  // Stops campaigning or leading; releases the lease if leading (see releaseOnStop), and
  // calls onStoppedLeading if it was leading. Waits for the release's answer (at most
  // renewDeadline plus retryPeriod), except on the client's I/O thread or inside a callback,
  // where waiting could deadlock (the release then finishes on its own). Idempotent.
  void stop();
  // A follower tries to take the lease now instead of at its next retry (the caller saw the
  // Lease change, e.g. released). Nothing while leading, stopped or lost.
  void retryNow();

  // True between onStartedLeading and onStoppedLeading (state is set before they run).
  bool isLeader() const;
  // The holder in the last record seen ("" when none was seen or it was released).
  std::string leader() const;
  // True once a record has been read or written (or the lease found absent and created): from
  // then on isLeader() and leader() say something. For a readiness check.
  bool observed() const;
  // True from start() until the lease is lost or stop() is called; once false, the elector
  // will not lead again.
  bool running() const;
  const std::string& identity() const;

 private:
  class Core;
  std::shared_ptr<Core> core_;  // shared with requests and timers that may outlive this
};

}  // namespace wop::server
