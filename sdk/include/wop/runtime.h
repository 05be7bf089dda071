// detail::Runtime: the SDK's side of every export, independent of wasm so tests drive it
// with a fake Host. The glue owns one Runtime and forwards each export to it.
//
// It keeps the declared controllers (by the id wop_declare returned), and every suspended API
// call by token. A reconcile runs as a detached coroutine that owns its Request and Context
// and reports its Result through Host::reconcileDone when it finishes.
#pragma once

#include <coroutine>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "wop/client.h"
#include "wop/config.h"
#include "wop/controller.h"
#include "wop/host.h"
#include "wop/reconciler.h"
#include "wop/response.h"

namespace wop::sdk::detail {

class Runtime {
 public:
  explicit Runtime(Host& host) : host_(host), client_(*this) {}
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // wop_init: reads the config, asks the operator for its controllers, declares each.
  int32_t init(Operator& op);
  // wop_reconcile: starts the reconcile of key; it may finish now or after API calls.
  int32_t reconcile(uint32_t reconcileId, uint32_t controllerId, std::string_view key);
  // wop_on_complete: resumes the coroutine waiting for token; unknown tokens are logged.
  int32_t complete(uint32_t token, int32_t httpStatus, std::string body);
  // wop_map: runs the watch's mapper and emits its keys.
  int32_t map(uint32_t controllerId, uint32_t watchIndex, std::string_view object);

  // For Call: sends a request; a token (> 0) or a negative wop_status.
  int32_t startCall(std::string_view request) { return host_.apiCall(request); }
  // For HttpCall: sends an outbound HTTP request; a token (> 0) or a negative wop_status. Its
  // answer is parked and delivered as an API call's is (one sequence of tokens).
  int32_t startHttpCall(std::string_view request) { return host_.httpCall(request); }
  // For Call: parks `waiter` until token completes, then fills *response and resumes it.
  void park(int32_t token, std::coroutine_handle<> waiter, Response* response);

  Host& host() { return host_; }
  Client& client() { return client_; }
  const Config& config() const { return config_; }
  size_t pendingCalls() const { return pending_.size(); }
  size_t runningReconciles() const { return running_; }

 private:
  struct Waiter {
    std::coroutine_handle<> handle;
    Response* response;
  };
  struct Declared {
    Controller controller;
    Reconciler* reconciler;
  };
  const Declared* controller(uint32_t id) const;
  void finish(uint32_t reconcileId, const Result& result);
  friend struct ReconcileDriver;

  Host& host_;
  Client client_;
  Config config_;
  std::map<uint32_t, Declared> controllers_;  // by the id wop_declare returned
  std::map<int32_t, Waiter> pending_;         // by token
  size_t running_ = 0;
};

}  // namespace wop::sdk::detail
