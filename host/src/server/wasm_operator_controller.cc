#include "server/wasm_operator_controller.h"

#include "common/json_fields.h"
#include "server/operator_definitions.h"
#include "wop_abi.h"

namespace wop::server {

namespace {

using Json = nlohmann::json;

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

const kube::ResourceInfo& wasmOperatorResource() {
  static const kube::ResourceInfo kWasmOperators{
      {"wasm-operator.dev", "v1alpha1", "wasmoperators"}, "WasmOperator", false};
  return kWasmOperators;
}

WasmOperatorController::WasmOperatorController(runtime::OperatorHost& host, kube::Client& client,
                                               std::unique_ptr<fetch::ModuleFetcher> fetcher,
                                               WasmOperatorControllerOptions options)
    : host_(host),
      client_(client),
      options_(std::move(options)),
      queue_(common::SystemClock::instance()),
      fetcher_(std::move(fetcher)) {}

WasmOperatorController::~WasmOperatorController() {
  stop();
  fetcher_.reset();  // stops the fetches in flight before the members they call back into go
}

void WasmOperatorController::start() {
  watch_ = host_.informers().subscribe(
      cache::InformerKey{wasmOperatorResource(), "", "", "", false},
      cache::Handlers{.onAdd = [this](const cache::ObjectPtr& object) { onObject(object); },
                      .onUpdate = [this](const cache::ObjectPtr&,
                                         const cache::ObjectPtr& object) { onObject(object); },
                      .onDelete = [this](const cache::ObjectPtr& object) { onGone(object); },
                      .onSynced =
                          [this] {
                            listed_ = true;
                            wake_.notify_all();
                          }});
  worker_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void WasmOperatorController::stop() {
  watch_.reset();
  if (worker_.joinable()) {
    worker_.request_stop();
    wake_.notify_all();
    worker_.join();
  }
}

ObjectReference WasmOperatorController::regarding(const std::string& operatorName) const {
  ObjectReference reference{.kind = "WasmOperator",
                            .apiVersion = "wasm-operator.dev/v1alpha1",
                            .ns = "",
                            .name = operatorName,
                            .uid = ""};
  std::lock_guard lock(mutex_);
  if (auto it = tracked_.find(operatorName); it != tracked_.end() && it->second.object) {
    reference.uid = it->second.object->uid;
  }
  return reference;
}

void WasmOperatorController::changed(const runtime::LifecycleEvent& event) {
  if (event.change == runtime::LifecycleChange::kUpgraded) return;  // its own doing
  {
    std::lock_guard lock(mutex_);
    if (!tracked_.contains(event.operatorName)) return;
    queue_.add(event.operatorName);
  }
  wake_.notify_all();
}

void WasmOperatorController::onObject(const cache::ObjectPtr& object) {
  {
    // The queue is added to under the lock the worker waits with: no wake-up is missed.
    std::lock_guard lock(mutex_);
    tracked_[object->name].object = object;
    queue_.add(object->name);
  }
  wake_.notify_all();
}

void WasmOperatorController::onGone(const cache::ObjectPtr& object) {
  {
    std::lock_guard lock(mutex_);
    auto it = tracked_.find(object->name);
    if (it == tracked_.end()) return;
    it->second.object = nullptr;
    queue_.add(object->name);
  }
  wake_.notify_all();
}

void WasmOperatorController::loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (auto name = queue_.pop()) {
      // The error boundary of this thread: one object's failure is logged and retried.
      try {
        reconcile(*name);
        queue_.forget(*name);
      } catch (const std::exception& e) {
        host_.log(*name, WOP_LOG_ERROR, std::string("WasmOperator controller: ") + e.what());
        queue_.addRateLimited(*name);
      }
      queue_.done(*name);
      continue;
    }
    if (listed_ && !synced_) synced_ = true;  // everything listed has been processed once
    std::unique_lock lock(mutex_);
    const auto due = queue_.nextDue();
    const auto until =
        due ? std::min(*due, common::SystemClock::instance().now() + std::chrono::seconds(1))
            : common::SystemClock::instance().now() + std::chrono::seconds(1);
    wake_.wait_until(lock, stop, until, [this] { return queue_.hasReady(); });
  }
}

void WasmOperatorController::reconcile(const std::string& name) {
  Tracked tracked;
  {
    std::lock_guard lock(mutex_);
    auto it = tracked_.find(name);
    if (it == tracked_.end()) return;
    tracked = it->second;
  }
  if (!tracked.object) {
    if (tracked.outcome && tracked.outcome->running) {
      host_.remove(name);
      host_.log(name, WOP_LOG_INFO, "WasmOperator deleted: unloaded");
    }
    std::lock_guard lock(mutex_);
    if (auto it = tracked_.find(name); it != tracked_.end() && !it->second.object) {
      tracked_.erase(it);
    }
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  const bool newGeneration =
      !tracked.outcome || tracked.outcome->generation != tracked.object->generation;
  // A refused operator is tried again now and then: what refused it may have been fixed
  // outside its object (a ServiceAccount's RBAC, the module file, a registry back up); a
  // failed upgrade only when that may pass by itself.
  const auto& outcome = tracked.outcome;
  const auto retryPeriod =
      outcome && outcome->transient ? options_.fetchRetryPeriod : options_.refusedRetryPeriod;
  const bool retry = outcome && !outcome->fetching &&
                     (!outcome->running || (outcome->degraded && outcome->transient)) &&
                     now - tracked.appliedAt >= retryPeriod;
  const bool fetched = outcome && outcome->fetching;  // queued again when the module came
  if (newGeneration || retry || fetched) {
    apply(name, tracked.object, tracked);
    tracked.appliedAt = now;
  }
  writeStatus(name, tracked);
  {
    std::lock_guard lock(mutex_);
    if (auto it = tracked_.find(name); it != tracked_.end()) {
      it->second.outcome = tracked.outcome;
      it->second.lastStatus = tracked.lastStatus;
      it->second.appliedAt = tracked.appliedAt;
    }
  }
  // Counters move while it runs: look again later (written only if the status changed). A
  // transient refusal is looked at when it is due again.
  const bool transient = tracked.outcome && tracked.outcome->transient;
  queue_.addAfter(name, transient ? std::min(options_.statusPeriod, options_.fetchRetryPeriod)
                                  : options_.statusPeriod);
}

void WasmOperatorController::apply(const std::string& name, const cache::ObjectPtr& object,
                                   Tracked& tracked) {
  const int64_t generation = object->generation;
  const bool wasRunning = tracked.outcome && tracked.outcome->running;
  WasmOperatorOutcome next = wasRunning ? *tracked.outcome : WasmOperatorOutcome{};
  next.generation = generation;
  next.transient = false;
  auto refuse = [&](const std::string& reason, const std::string& message) {
    host_.log(name, WOP_LOG_ERROR,
              "WasmOperator generation " + std::to_string(generation) + ": " + message +
                  (wasRunning ? " (the previous version keeps running)" : ""));
    next.degraded = wasRunning;
    next.reason = reason;
    next.message = firstLine(message);
  };
  // Parsed once per generation applied, not per informer event.
  const Json doc = Json::parse(object->json, nullptr, /*allow_exceptions=*/false);
  auto definition = parseWasmOperator(doc, "WasmOperator " + name, "");
  if (!definition) {
    refuse("InvalidSpec", definition.status().message());
    tracked.outcome = next;
    return;
  }
  runtime::OperatorSpec& spec = definition->spec;
  if (!definition->module.isPath()) {
    auto module = moduleOf(name, generation, *definition, doc);
    if (!module) {  // being fetched; the version running (if any) goes on meanwhile
      if (!wasRunning) {
        tracked.outcome = WasmOperatorOutcome{
            .generation = generation,
            .reason = "FetchingModule",
            .message = "fetching the module from " + definition->module.describe(),
            .fetching = true};
      }
      return;
    }
    if (!*module) {
      const auto code = module->status().code();
      const bool transient = code == common::StatusCode::kUnavailable ||
                             code == common::StatusCode::kDeadlineExceeded ||
                             code == common::StatusCode::kNotFound ||
                             code == common::StatusCode::kFailedPrecondition;
      refuse(transient ? "ModuleUnavailable" : "ModuleRefused", module->status().message());
      next.transient = transient;
      tracked.outcome = next;
      return;
    }
    spec.modulePath = (*module)->path;
    spec.moduleSha256 = (*module)->sha256;
    next.resolvedImage = (*module)->resolvedImage;
  }
  const auto applied = wasRunning ? host_.replace(spec, options_.drainTimeout) : host_.add(spec);
  if (!applied.isOk()) {
    refuse(wasRunning ? "UpgradeRefused" : "ModuleRefused", applied.message());
    tracked.outcome = next;
    return;
  }
  const std::string resolvedImage = next.resolvedImage;
  next = WasmOperatorOutcome{.generation = generation, .running = true};
  next.resolvedImage = resolvedImage;
  const auto stats = host_.stats(name);
  const std::string digest = stats ? stats->moduleDigest : "";
  host_.log(name, WOP_LOG_INFO,
            std::string(wasRunning ? "upgraded" : "loaded") + " from WasmOperator generation " +
                std::to_string(generation) + " (" + digest + ")");
  if (wasRunning) {
    const runtime::LifecycleEvent upgraded{
        .change = runtime::LifecycleChange::kUpgraded, .operatorName = name, .detail = digest};
    if (auto failed = runtime::tellListener(options_.lifecycle, upgraded); !failed.empty()) {
      host_.log(name, WOP_LOG_WARN, failed);
    }
  }
  tracked.outcome = next;
}

std::optional<common::Result<fetch::FetchedModule>> WasmOperatorController::moduleOf(
    const std::string& name, int64_t generation, const WasmOperatorDefinition& definition,
    const Json& object) {
  if (!fetcher_) {
    return common::Result<fetch::FetchedModule>(common::Status(
        common::StatusCode::kFailedPrecondition, "this host fetches no modules: use a path"));
  }
  const runtime::OperatorSpec& spec = definition.spec;
  fetch::FetchRequest request{.source = definition.module,
                              .identity = runtime::operatorIdentity(spec),
                              .secretsNamespace = spec.serviceAccountName.empty()
                                                      ? options_.hostNamespace
                                                      : spec.serviceAccountNamespace,
                              .knownResolvedImage = ""};
  // A tag is resolved once per generation: what this generation's status recorded is kept
  // (across restarts of the host too), so the module does not change under an unchanged spec.
  const Json status = object.is_object() ? object.value("status", Json::object()) : Json();
  // Anyone who may write the status may write anything there: read it without trusting it.
  const auto observed = status.is_object() ? status.find("observedGeneration") : status.end();
  if (observed != status.end() && observed->is_number_integer() &&
      observed->get<int64_t>() == generation) {
    request.knownResolvedImage = common::stringField(status, "resolvedImage");
  }
  {
    std::lock_guard lock(mutex_);
    Tracked& tracked = tracked_[name];
    if (tracked.fetched && tracked.fetchedGeneration == generation) {
      auto result = std::move(*tracked.fetched);
      tracked.fetched.reset();
      return result;
    }
    if (tracked.fetchingGeneration == generation) return std::nullopt;
  }
  if (auto hit = fetcher_->cached(request)) return common::Result<fetch::FetchedModule>(*hit);
  {
    std::lock_guard lock(mutex_);
    tracked_[name].fetchingGeneration = generation;
  }
  host_.log(name, WOP_LOG_INFO, "fetching the module from " + definition.module.describe());
  fetcher_->fetch(std::move(request),
                  [this, name, generation](common::Result<fetch::FetchedModule> result) {
                    {
                      std::lock_guard lock(mutex_);
                      auto it = tracked_.find(name);
                      if (it == tracked_.end() || it->second.fetchingGeneration != generation) {
                        return;  // deleted, or a newer generation is being fetched
                      }
                      it->second.fetchingGeneration.reset();
                      it->second.fetched = std::move(result);
                      it->second.fetchedGeneration = generation;
                      queue_.add(name);
                    }
                    wake_.notify_all();
                  });
  return std::nullopt;
}

void WasmOperatorController::writeStatus(const std::string& name, Tracked& tracked) {
  if (!tracked.outcome) return;
  if (options_.writesStatus && !options_.writesStatus(name)) return;
  const auto stats = tracked.outcome->running ? host_.stats(name) : std::nullopt;
  Json status = wasmOperatorStatus(*tracked.outcome, stats ? &*stats : nullptr, tracked.lastStatus,
                                   common::SystemClock::instance().wallNow());
  if (status == tracked.lastStatus) return;
  auto written = client_.execute(kube::patchRequest(wasmOperatorResource(), "", name,
                                                    kube::PatchType::kJsonMerge,
                                                    Json{{"status", status}}.dump(), {}, "status"));
  if (!written) {
    if (written.error().reason == kube::ApiReason::kNotFound) return;  // deleted meanwhile
    throw std::runtime_error("cannot write the status: " + written.error().toString());
  }
  tracked.lastStatus = std::move(status);
}

}  // namespace wop::server
