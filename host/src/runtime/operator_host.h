// The host of many operators in one process: one Wasmtime engine, one artifact cache, one
// linker with ABI v1, one Kubernetes client with shared informers, and a small pool of worker
// threads that enter guests. Operators are scheduled round robin, one slice at a time, so a
// busy operator cannot starve the others; a reconcile waiting on the API server holds no
// thread (its API call completes on the client's I/O thread and is queued for its operator).
//
// Thread-safety: add/status/latency may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cache/shared_informers.h"
#include "common/clock.h"
#include "kube/client.h"
#include "runtime/operator.h"
#include "runtime/operator_spec.h"
#include "wasm/engine.h"
#include "wasm/guest_linker.h"
#include "wasm/module_cache.h"

namespace wop::runtime {

struct LogRecord {
  std::string operatorName;  // empty: the host itself
  int32_t level;             // WOP_LOG_*
  std::string message;
};

using LogSink = std::function<void(const LogRecord&)>;

// Writes "2026-11-29T20:00:00.123Z level=info operator=ring-0 msg=..." lines to stderr.
LogSink stderrLogSink();

struct HostOptions {
  int workers = 2;
  std::string artifactDirectory;  // default: $XDG_CACHE_HOME or ~/.cache, /wasm-operator/artifacts
  std::chrono::milliseconds restartBackoffBase{1000};
  std::chrono::milliseconds restartBackoffMax{300'000};
  bool checkPermissions = true;  // SubjectAccessReview of every declared watch at start
  RateLimits queueLimits;
};

class OperatorHost {
 public:
  OperatorHost(kube::Client& client, HostOptions options = {}, LogSink log = stderrLogSink());
  ~OperatorHost();
  OperatorHost(const OperatorHost&) = delete;
  OperatorHost& operator=(const OperatorHost&) = delete;

  // Loads and starts an operator. Fails (and the operator is not added) when its module is
  // refused (not Wasm, wrong ABI, unknown imports, memory above its cap), its declarations
  // are invalid, or its ServiceAccount may not watch what it declared. A trap or timeout
  // during start is not a refusal: the operator retries with backoff.
  common::Status add(const OperatorSpec& spec);
  // Adds an operator whose guests come from a factory of the caller's (spec.modulePath and
  // the memory limit are not used): the ring benchmark's native operators.
  common::Status add(const OperatorSpec& spec, std::shared_ptr<GuestFactory> guests);
  void remove(const std::string& name);

  std::vector<OperatorStats> stats() const;
  // Change-to-reconcile delays (ms) since the last call: from the informer event that queued
  // a key to the start of its reconcile.
  std::vector<double> takeLatencySamples();
  int workerCount() const { return static_cast<int>(workers_.size()); }

  // For operators:
  kube::Client& client() { return client_; }
  cache::SharedInformers& informers() { return informers_; }
  wasm::Engine& engine() { return engine_; }
  const HostOptions& options() const { return options_; }
  void log(const std::string& operatorName, int32_t level, const std::string& message);
  void schedule(const std::shared_ptr<Operator>& op);
  void wakeAt(const std::shared_ptr<Operator>& op, std::chrono::steady_clock::time_point when);
  void recordLatency(double ms);

 private:
  void workerLoop(std::stop_token stop);

  kube::Client& client_;
  const HostOptions options_;
  LogSink logSink_;
  std::mutex logMutex_;
  wasm::Engine engine_;
  wasm::ModuleCache modules_;
  std::unique_ptr<wasm::GuestLinker> linker_;
  cache::SharedInformers informers_;

  mutable std::mutex mutex_;  // guards operators_, ready_, latency_
  std::condition_variable_any readyCv_;
  std::map<std::string, std::shared_ptr<Operator>> operators_;
  std::deque<std::shared_ptr<Operator>> ready_;
  std::map<Operator*, bool> queued_;  // queued or running -> scheduled again meanwhile
  std::vector<double> latency_;
  std::vector<std::jthread> workers_;
};

}  // namespace wop::runtime
