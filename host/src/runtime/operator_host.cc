#include "runtime/operator_host.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <thread>

#include "common/log_text.h"
#include "common/memory_maps.h"
#include "common/open_files.h"
#include "hostcalls/abi_v1.h"
#include "runtime/wasm_operator_guest.h"
#include "snapshot/operator_snapshot.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using common::Status;
using common::StatusCode;

std::string defaultCacheDirectory() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::string base = xdg && *xdg ? xdg : std::string(home ? home : "/tmp") + "/.cache";
  return base + "/wasm-operator";
}

}  // namespace

OperatorHost::OperatorHost(kube::Client& client, HostOptions options, LogSink log)
    : client_(client),
      options_(std::move(options)),
      logSink_(std::move(log)),
      informers_(client, cache::SharedInformerOptions{{}, options_.clusterWideWatchAfter}),
      takingKeys_(std::max(1, options_.shards)),
      // Operators with long entries may hold all workers but one, so the rest always have one.
      runQueue_(FairRunQueueOptions{.maxLongRunning = std::max(1, options_.workers - 1)}),
      timers_(common::SystemClock::instance(), [this](const char* what) {
        this->log("", WOP_LOG_ERROR, std::string("a timer failed: ") + what);
      }) {
  for (auto& gate : takingKeys_) gate.store(true);
  if (options_.swap.enabled) {
    const std::string base = options_.swap.directory.empty()
                                 ? defaultCacheDirectory() + "/snapshots"
                                 : options_.swap.directory;
    snapshotDirectory_ = base + "/host-" + std::to_string(::getpid());
    if (auto prepared = snapshot::prepareSnapshotDirectory(base, snapshotDirectory_);
        !prepared.isOk()) {
      // Swapping is an optimisation: without a folder the host runs every operator resident.
      this->log("", WOP_LOG_WARN, "swapping is off: " + prepared.message());
      snapshotDirectory_.clear();
    }
    if (!snapshotDirectory_.empty() && options_.swap.memoryBudgetBytes > 0) {
      memoryBudget_ = std::make_unique<MemoryBudget>(options_.swap.memoryBudgetBytes);
    }
  }
  background_ = std::jthread([this](std::stop_token stop) { backgroundLoop(stop); });
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this](std::stop_token stop) { workerLoop(stop); });
  }
}

OperatorHost::~OperatorHost() {
  for (auto& worker : workers_) worker.request_stop();
  readyCv_.notify_all();
  workers_.clear();  // joins
  background_.request_stop();
  backgroundCv_.notify_all();
  background_ = {};  // joins
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, op] : operators_) op->stop();
    operators_.clear();
    runQueue_.clear();
  }
  if (!snapshotDirectory_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(snapshotDirectory_, ignored);
  }
}

std::string OperatorHost::artifactDirectory() const {
  return options_.artifactDirectory.empty() ? defaultCacheDirectory() + "/artifacts"
                                            : options_.artifactDirectory;
}

// Made at the first Wasm operator: a host of native guests only (the ring benchmark's) then
// pays neither the engine's memory nor its epoch ticker's 100 wake-ups a second.
OperatorHost::Wasm& OperatorHost::wasm() {
  std::lock_guard lock(wasmMutex_);
  if (wasm_) return *wasm_;
  auto state = std::make_unique<Wasm>(
      artifactDirectory(),
      wasm::EngineOptions{.memoryReservationBytes = options_.guestMemoryReservationBytes});
  auto linker = wasm::GuestLinker::create(state->engine, hostcalls::defineAbiV1);
  if (!linker) {
    // Defining our own host functions cannot fail unless the build is broken.
    this->log("", WOP_LOG_ERROR, "cannot define the ABI: " + linker.status().message());
    std::abort();
  }
  state->linker = std::move(*linker);
  wasm_ = std::move(state);
  return *wasm_;
}

wasm::ModuleCacheCounters OperatorHost::moduleCounters() {
  std::lock_guard lock(wasmMutex_);
  return wasm_ ? wasm_->modules.counters() : wasm::ModuleCacheCounters{};
}

void OperatorHost::log(const std::string& operatorName, int32_t level, const std::string& message,
                       const LogFields& fields) {
  if (level < options_.logLevel) return;
  // The one place every log line passes: guest text (wop_log, reconcile messages, what a
  // guest printed that an error quotes) cannot end the line or drive the terminal.
  LogRecord record{operatorName, level, common::escapeLogText(message), {}};
  for (const auto& [name, value] : fields) {
    record.fields.emplace_back(name, common::escapeLogText(value));
  }
  std::lock_guard lock(logMutex_);
  logSink_(record);
}

common::Status OperatorHost::add(const OperatorSpec& spec) {
  if (spec.name.empty()) return Status(StatusCode::kInvalidArgument, "an operator needs a name");
  {
    std::lock_guard lock(mutex_);
    if (operators_.contains(spec.name)) {
      return Status(StatusCode::kInvalidArgument, "operator " + spec.name + " already exists");
    }
  }
  auto guests = wasmGuests(spec);
  if (!guests) return refused(spec.name, guests.status());
  // Each distinct compiled module keeps a file open, and each resident guest a few memory maps:
  // say so before a limit breaks a load, or (maps) the process (a listing of /proc/self/fd and
  // /proc/self/maps every 64 operators is cheap next to loading them).
  if (wasmAdds_.fetch_add(1) % 64 == 63) {
    if (auto files = common::openFiles()) {
      if (auto warning = common::openFilesWarning(*files); !warning.empty()) {
        log("", WOP_LOG_WARN, warning);
      }
    }
    if (auto maps = common::memoryMaps()) {
      if (auto warning = common::memoryMapsWarning(*maps); !warning.empty()) {
        log("", WOP_LOG_WARN, warning);
      }
    }
  }
  return add(spec, std::move(*guests));
}

std::vector<common::Status> OperatorHost::addAll(const std::vector<OperatorSpec>& specs,
                                                 size_t parallel) {
  std::vector<common::Status> statuses(specs.size());
  std::atomic<size_t> nextSpec{0};
  auto loadUntilNoneLeft = [&] {
    for (size_t i = nextSpec++; i < specs.size(); i = nextSpec++) {
      waitForMemoryBudget();
      statuses[i] = add(specs[i]);
    }
  };
  {
    std::vector<std::jthread> loaders;
    const size_t threads = std::clamp<size_t>(parallel, 1, std::max<size_t>(specs.size(), 1));
    for (size_t t = 1; t < threads; ++t) loaders.emplace_back(loadUntilNoneLeft);
    loadUntilNoneLeft();
  }  // joined
  return statuses;
}

void OperatorHost::waitForMemoryBudget() {
  // Every new operator is resident until its first idle slice; loads faster than the workers
  // swap the earlier ones out would hold them all at once (at N = 10,000 with 8 loaders: 1.8
  // GiB at start under a 64 MiB budget). Bounded: a busy operator asked to go may stay.
  if (!memoryBudget_) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (memoryBudget_->catchingUp() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int64_t awaitReconciles(const std::function<int64_t()>& inFlight, std::chrono::milliseconds timeout,
                        const std::atomic<bool>* stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int64_t left = inFlight();
  while (left > 0 && std::chrono::steady_clock::now() < deadline && !(stop && stop->load())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    left = inFlight();
  }
  return left;
}

common::Status OperatorHost::replace(const OperatorSpec& spec,
                                     std::chrono::milliseconds drainTimeout) {
  std::shared_ptr<Operator> old;
  {
    std::lock_guard lock(mutex_);
    auto it = operators_.find(spec.name);
    if (it != operators_.end()) old = it->second;
  }
  if (!old) return add(spec);
  // The new module first: one that cannot load leaves the old version running.
  auto guests = wasmGuests(spec);
  if (!guests) return guests.status().withContext("operator " + spec.name);
  // The old version starts no new reconcile and finishes (or times out) those in flight, so a
  // key never runs in both at once. The new one's informers replay the cache: every object is
  // queued again (level-based), so no key is lost with the old queues.
  old->stopTakingKeys();
  (void)awaitReconciles(
      [&old] { return old->metrics()->activeReconciles.load(std::memory_order_relaxed); },
      drainTimeout);
  remove(spec.name);
  old.reset();
  return add(spec, std::move(*guests));
}

Status OperatorHost::refused(const std::string& name, const Status& why) {
  // A module refused before its operator exists is reported here; later refusals by the
  // operator itself (Operator::refuse).
  const LifecycleEvent event{
      .change = LifecycleChange::kRefused, .operatorName = name, .detail = why.message()};
  if (auto failed = tellListener(options_.lifecycle.get(), event); !failed.empty()) {
    log(name, WOP_LOG_WARN, failed);
  }
  return why.withContext("operator " + name);
}

common::Result<std::shared_ptr<GuestFactory>> OperatorHost::wasmGuests(const OperatorSpec& spec) {
  Wasm& wasm = this->wasm();
  // Before the module is read: a limit the engine's memories cannot reach is the spec's fault.
  if (auto fits = wasm.engine.checkMemoryLimit(spec.maxMemoryBytes); !fits.isOk()) return fits;
  auto requirements = hostcalls::abiV1Requirements(spec.maxMemoryBytes);
  requirements.sha256 = spec.moduleSha256;
  auto module = wasm.modules.load(spec.modulePath, requirements);
  if (!module) return module.status();
  auto prepared = wasm.linker->prepare(*module);
  if (!prepared) return prepared.status();
  // A swapped-out operator lets its compiled module go; this brings it back from the artifact.
  WasmGuestFactory::Reload reload;
  const std::string identity = module->identity();
  if (wasm.modules.hasArtifact(identity)) {
    reload = [this, identity, path = spec.modulePath,
              requirements]() -> common::Result<wasm::PreparedModule> {
      Wasm& wasm = this->wasm();
      auto module = wasm.modules.reload(identity, path);
      // The artifact gone (a cleaned cache): compile the module file again (pinned as before).
      if (!module) module = wasm.modules.load(path, requirements);
      if (!module) return module.status();
      return wasm.linker->prepare(*module);
    };
  }
  return std::shared_ptr<GuestFactory>(std::make_shared<WasmGuestFactory>(
      wasm.engine, std::move(*prepared),
      wasm::InstanceLimits{spec.maxMemoryBytes, spec.entryTimeout}, spec.name, std::move(reload),
      [this, identity](const wasm::GuestModule& module, const common::WakeGuess& dueBack) {
        return this->wasm().modules.park(identity, module, dueBack);
      }));
}

common::Status OperatorHost::add(const OperatorSpec& spec, std::shared_ptr<GuestFactory> guests) {
  if (spec.name.empty()) return Status(StatusCode::kInvalidArgument, "an operator needs a name");
  const std::string name = spec.name;
  auto op = std::make_shared<Operator>(
      environment(name), spec, std::move(guests),
      [this, name](int32_t level, const std::string& message, const LogFields& fields) {
        log(name, level, message, fields);
      });
  {
    std::lock_guard lock(mutex_);
    if (!operators_.try_emplace(spec.name, op).second) {
      return Status(StatusCode::kInvalidArgument, "operator " + spec.name + " already exists");
    }
  }
  if (auto status = op->start(); !status.isOk()) {
    std::lock_guard lock(mutex_);
    operators_.erase(spec.name);
    return status.withContext("operator " + spec.name);
  }
  schedule(op);
  return Status::ok();
}

void OperatorHost::remove(const std::string& name) {
  std::shared_ptr<Operator> op;
  {
    std::lock_guard lock(mutex_);
    auto it = operators_.find(name);
    if (it == operators_.end()) return;
    op = it->second;
    operators_.erase(it);
    runQueue_.forget(op);
  }
  op->stop();
}

std::vector<std::shared_ptr<Operator>> OperatorHost::operators() const {
  std::vector<std::shared_ptr<Operator>> ops;
  std::lock_guard lock(mutex_);
  for (const auto& [name, op] : operators_) ops.push_back(op);
  return ops;
}

std::vector<OperatorStats> OperatorHost::stats() const {
  std::vector<OperatorStats> out;
  for (const auto& op : operators()) out.push_back(op->stats());
  return out;
}

std::optional<OperatorStats> OperatorHost::stats(const std::string& name) const {
  std::shared_ptr<Operator> op;
  {
    std::lock_guard lock(mutex_);
    auto it = operators_.find(name);
    if (it == operators_.end()) return std::nullopt;
    op = it->second;
  }
  return op->stats();
}

std::vector<OperatorReport> OperatorHost::reports() const {
  std::vector<OperatorReport> out;
  for (const auto& op : operators()) out.push_back({op->stats(), op->metrics()});
  return out;
}

uint64_t OperatorHost::artifactCacheBytes() {
  std::error_code error;
  uint64_t bytes = 0;
  const std::string& directory = wasm().modules.directory();
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code sizeError;
    const auto size = it->is_regular_file(sizeError) ? it->file_size(sizeError) : 0;
    if (!sizeError) bytes += size;
  }
  return bytes;
}

std::atomic<bool>& OperatorHost::shardGate(int shard) {
  return takingKeys_.at(static_cast<size_t>(shard));
}

const std::atomic<bool>& OperatorHost::shardGate(int shard) const {
  return takingKeys_.at(static_cast<size_t>(shard));
}

OperatorEnvironment OperatorHost::environment(const std::string& operatorName) {
  OperatorSettings settings;
  settings.restartBackoffBase = options_.restartBackoffBase;
  settings.restartBackoffMax = options_.restartBackoffMax;
  settings.checkPermissions = options_.checkPermissions;
  settings.queueLimits = options_.queueLimits;
  settings.swapEnabled = options_.swap.enabled;
  settings.swapIdleAfter = options_.swap.idleAfter;
  settings.swapPredict = options_.swap.predict;
  settings.swapSettleAfter = options_.swap.settleAfter;
  settings.snapshotDirectory = snapshotDirectory_;
  return OperatorEnvironment{shardGate(shardOf(operatorName)),
                             common::SystemClock::instance(),
                             timers_,
                             client_,
                             [this](const cache::InformerKey& key, cache::Handlers handlers) {
                               return informers_.subscribe(key, std::move(handlers));
                             },
                             *this,
                             *this,
                             options_.observer ? *options_.observer : noObserver_,
                             std::move(settings),
                             options_.lifecycle.get(),
                             options_.outbound.get(),
                             memoryBudget_.get()};
}

void OperatorHost::run(std::function<void()> job) {
  {
    std::lock_guard lock(backgroundMutex_);
    backgroundJobs_.push_back(std::move(job));
  }
  backgroundCv_.notify_one();
}

void OperatorHost::backgroundLoop(std::stop_token stop) {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(backgroundMutex_);
      backgroundCv_.wait(lock, stop, [this] { return !backgroundJobs_.empty(); });
      if (stop.stop_requested()) return;
      job = std::move(backgroundJobs_.front());
      backgroundJobs_.pop_front();
    }
    // The error boundary of this thread: a failing job is reported, the thread goes on.
    try {
      job();
    } catch (const std::exception& e) {
      log("", WOP_LOG_ERROR, std::string("a background job failed: ") + e.what());
    }
  }
}

void OperatorHost::setTakingKeys(bool taking) {
  for (auto& gate : takingKeys_) gate.store(taking);
  if (!taking) return;
  for (const auto& op : operators()) schedule(op);
}

void OperatorHost::setTakingKeys(int shard, bool taking) {
  shardGate(shard).store(taking);
  if (!taking) return;
  for (const auto& op : operators()) {
    if (shardOf(op->name()) == shard) schedule(op);
  }
}

int64_t OperatorHost::reconcilesInFlight() const {
  int64_t inFlight = 0;
  for (const auto& op : operators()) {
    inFlight += op->metrics()->activeReconciles.load(std::memory_order_relaxed);
  }
  return inFlight;
}

int64_t OperatorHost::reconcilesInFlight(int shard) const {
  int64_t inFlight = 0;
  for (const auto& op : operators()) {
    if (shardOf(op->name()) != shard) continue;
    inFlight += op->metrics()->activeReconciles.load(std::memory_order_relaxed);
  }
  return inFlight;
}

void OperatorHost::schedule(const std::shared_ptr<Operator>& op) {
  {
    std::lock_guard lock(mutex_);
    if (!runQueue_.wake(op)) return;  // queued already, or running: it runs again after
  }
  readyCv_.notify_one();
}

void OperatorHost::workerLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::shared_ptr<Operator> op;
    {
      std::unique_lock lock(mutex_);
      readyCv_.wait(lock, stop, [this] { return runQueue_.hasEligible(); });
      if (stop.stop_requested()) return;
      op = *runQueue_.next();
    }
    const auto start = std::chrono::steady_clock::now();
    bool more = false;
    // The error boundary of a worker: an exception out of a slice (a bug, or memory exhausted)
    // stops that one operator with the reason; the worker and the other operators go on.
    try {
      more = op->runSlice();
    } catch (const std::exception& e) {
      op->abandon(std::string("the host failed while running it: ") + e.what());
    }
    const auto used = std::chrono::steady_clock::now() - start;
    bool wakeOthers = false;
    {
      std::lock_guard lock(mutex_);
      runQueue_.finish(op, used, more);
      // Removed meanwhile (a late completion woke it): let the run queue drop it.
      auto it = operators_.find(op->name());
      if (it == operators_.end() || it->second != op) runQueue_.forget(op);
      // Its slot among the long-running may have let a queued operator become eligible.
      wakeOthers = runQueue_.hasEligible();
    }
    if (wakeOthers) readyCv_.notify_all();
  }
}

}  // namespace wop::runtime
