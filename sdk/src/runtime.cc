#include "wop/runtime.h"

#include "wop/log.h"

namespace wop::sdk::detail {

// Drives one reconcile: owns its Request and Context (so the reconciler may hold references
// to them across co_await), awaits the reconciler's Task, and reports the Result. Its frame
// frees itself at the end.
struct ReconcileDriver {
  static Detached run(Runtime& runtime, uint32_t reconcileId, const Controller& controller,
                      Reconciler& reconciler, Request request) {
    Context context{runtime.client(), runtime.config(), controller, Http(runtime)};
    Result result = co_await reconciler.reconcile(context, request);
    runtime.finish(reconcileId, result);
  }
};

int32_t Runtime::init(Operator& op) {
  std::string text;
  int32_t status = host_.configGet(&text);
  if (status < 0) {
    log::warn("could not read the config (%s); using {}", statusName(status));
  } else {
    auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (parsed.is_object()) {
      config_ = Config(std::move(parsed));
    } else {
      log::warn("the config is not a JSON object; using {}");
    }
  }
  for (auto& controller : op.controllers(config_)) {
    int32_t id = host_.declare(controller.declaration().dump());
    if (id < 0) {
      log::error("declaring controller %s failed: %s", controller.name().c_str(), statusName(id));
      return id;
    }
    Reconciler* reconciler = controller.reconciler() ? controller.reconciler() : &op;
    controllers_.insert_or_assign(static_cast<uint32_t>(id),
                                  Declared{std::move(controller), reconciler});
  }
  return WOP_OK;
}

const Runtime::Declared* Runtime::controller(uint32_t id) const {
  auto it = controllers_.find(id);
  return it == controllers_.end() ? nullptr : &it->second;
}

int32_t Runtime::reconcile(uint32_t reconcileId, uint32_t controllerId, std::string_view key) {
  auto declared = controller(controllerId);
  if (declared == nullptr) {
    log::error("reconcile for unknown controller id %u", static_cast<unsigned>(controllerId));
    finish(reconcileId, Result::error("unknown controller id"));
    return WOP_OK;
  }
  ++running_;
  ReconcileDriver::run(*this, reconcileId, declared->controller, *declared->reconciler,
                       Request::fromKey(key));
  return WOP_OK;
}

void Runtime::finish(uint32_t reconcileId, const Result& result) {
  if (running_ > 0) --running_;
  int32_t outcome = WOP_RECONCILE_DONE;
  switch (result.kind()) {
    case Result::Kind::kDone:
      outcome = WOP_RECONCILE_DONE;
      break;
    case Result::Kind::kRequeueAfter:
      outcome = WOP_RECONCILE_REQUEUE_AFTER;
      break;
    case Result::Kind::kError:
      outcome = WOP_RECONCILE_ERROR;
      break;
    case Result::Kind::kTerminal:
      outcome = WOP_RECONCILE_TERMINAL;
      break;
  }
  int32_t status = host_.reconcileDone(reconcileId, outcome, result.delayMs(), result.message());
  if (status < 0) {
    log::error("reconcile_done(%u) failed: %s", static_cast<unsigned>(reconcileId),
               statusName(status));
  }
}

void Runtime::park(int32_t token, std::coroutine_handle<> waiter, Response* response) {
  pending_.insert_or_assign(token, Waiter{waiter, response});
}

int32_t Runtime::complete(uint32_t token, int32_t httpStatus, std::string body) {
  auto it = token <= static_cast<uint32_t>(INT32_MAX) ? pending_.find(static_cast<int32_t>(token))
                                                      : pending_.end();
  if (it == pending_.end()) {
    log::warn("completion for unknown token %u ignored", static_cast<unsigned>(token));
    return WOP_OK;
  }
  Waiter waiter = it->second;
  pending_.erase(it);
  waiter.response->status = httpStatus;
  waiter.response->body = std::move(body);
  waiter.handle.resume();  // runs until the reconcile awaits again or finishes
  return WOP_OK;
}

int32_t Runtime::map(uint32_t controllerId, uint32_t watchIndex, std::string_view object) {
  auto declared = controller(controllerId);
  const Mapper* mapper = declared ? declared->controller.mapper(watchIndex) : nullptr;
  const ContextMapper* contextMapper =
      declared ? declared->controller.contextMapper(watchIndex) : nullptr;
  if (mapper == nullptr && contextMapper == nullptr) {
    log::error("map for controller %u watch %u, which has no mapper",
               static_cast<unsigned>(controllerId), static_cast<unsigned>(watchIndex));
    return WOP_ERR_INVALID_ARGUMENT;
  }
  auto parsed = nlohmann::json::parse(object, nullptr, false);
  if (!parsed.is_object()) {
    log::warn("map got an object that is not JSON");
    return WOP_ERR_INVALID_ARGUMENT;
  }
  std::vector<std::string> keys;
  if (mapper != nullptr) {
    keys = (*mapper)(parsed);
  } else {
    // The host allows wop_cache_read inside wop_map: the mapper reads the cache directly.
    MapContext context{client_, config_, declared->controller};
    keys = (*contextMapper)(context, parsed);
  }
  if (keys.size() > WOP_MAX_EMITTED_KEYS) {
    log::warn("mapper returned %zu keys; emitting the first %u", keys.size(), WOP_MAX_EMITTED_KEYS);
    keys.resize(WOP_MAX_EMITTED_KEYS);
  }
  for (const auto& key : keys) {
    int32_t status = host_.emitKey(key);
    if (status < 0) {
      log::warn("emit_key(%s) failed: %s", key.c_str(), statusName(status));
      return status;
    }
  }
  return WOP_OK;
}

}  // namespace wop::sdk::detail
