// Reconciler and Operator: what an operator author implements.
//
//   class Ring : public wop::sdk::Operator {
//     std::vector<Controller> controllers(const Config& config) override;
//     Task<Result> reconcile(Context& ctx, const Request& req) override;
//   };
//   WOP_OPERATOR(Ring)
//
// reconcile is level-based: it gets a key, reads the current state (from the cache), and
// makes the world match. The host never runs two reconciles of one key at once, but may run
// reconciles of different keys concurrently (maxConcurrentReconciles): they interleave at
// co_await points, on one thread.
#pragma once

#include <vector>

#include "wop/client.h"
#include "wop/config.h"
#include "wop/controller.h"
#include "wop/http.h"
#include "wop/result.h"
#include "wop/task.h"

namespace wop::sdk {

// What a reconcile may use. Lives until its reconcile's Task has finished.
struct Context {
  Client& client;
  const Config& config;
  const Controller& controller;  // the controller this reconcile belongs to
  Http http{};                   // outbound HTTP to spec.allowedHosts (wop/http.h)
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual Task<Result> reconcile(Context& ctx, const Request& req) = 0;
};

class Operator : public Reconciler {
 public:
  // Called once, in wop_init: the controllers to declare. A controller without
  // reconcileWith() is reconciled by this operator.
  virtual std::vector<Controller> controllers(const Config& config) = 0;
};

}  // namespace wop::sdk
