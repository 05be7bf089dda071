// wop::testing::FakeHost: unit-test a reconciler natively, without a control plane or Wasm,
// the way controller-runtime's fake client and kube-rs's mock service are used
// (docs/sdk-testing.md):
//
//   wop::testing::FakeHost fake;
//   fake.cluster().put(widget("ns", "a"));
//   MyOperator op;
//   auto result = fake.reconcile(op, "ns/a");
//   EXPECT_FALSE(result.isError()) << result.message();
//   EXPECT_NE(fake.cluster().find(kinds::ConfigMap, "ns", "a-config"), nullptr);
//
// It is the host of the SDK (sdk::detail::Host) with an in-memory Cluster behind it:
//   - wop_init runs on the first reconcile (or keysFor) of an operator, with setConfig()'s
//     config; the declarations are recorded;
//   - cache reads are served from the cluster, as the host serves them from its informers:
//     only declared kinds, namespaces and selectors (anything else is WOP_ERR_FORBIDDEN, as in
//     the host), but always up to date (the real cache lags behind writes);
//   - API calls are queued and answered by the cluster in order, after the entry that made
//     them returns (as the host answers through wop_on_complete); reconcile() answers them
//     until its reconcile reports its Result; "event" calls are recorded as Events;
//   - failures are injected per verb, kind, namespace and name (failReads, failCalls);
//   - every call, event, log line and declaration is recorded for assertions.
//
// Ownership and lifetime: an operator passed to reconcile()/keysFor() must outlive the
// FakeHost or the next operator passed (one operator at a time; passing another one runs its
// wop_init afresh). While a FakeHost exists, the SDK's log:: functions on this thread write to
// it. Not thread-safe: use it from the test's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wop/host.h"
#include "wop/http.h"
#include "wop/operator.h"
#include "wop/reconciler.h"
#include "wop/response.h"
#include "wop/result.h"
#include "wop/testing/cluster.h"

namespace wop::sdk::detail {
class Runtime;
}

namespace wop::testing {

// Which requests a failure applies to; an empty field matches anything.
struct Match {
  std::string verb;  // reads: "get" or "list"; calls: a WOP_VERB_* ("create", "delete", ...)
  std::string kind;  // "ConfigMap"
  std::string ns;
  std::string name;
};

struct RecordedCall {
  json request;        // the wop_api_call JSON
  int32_t status = 0;  // what the operator got: HTTP status or a negative wop_status; 0 while
                       // the call waits for its answer
  std::string body;    // the response body
};

struct RecordedEvent {
  std::string ns;  // where the Event was recorded: the object's namespace, or "default"
  json involvedObject;
  std::string type;  // "Normal" or "Warning"
  std::string reason;
  std::string message;
};

struct LogLine {
  int32_t level;  // WOP_LOG_*
  std::string message;
};

// A key an event led to, and the controller whose queue it entered.
struct Enqueued {
  std::string controller;
  std::string key;
  friend bool operator==(const Enqueued&, const Enqueued&) = default;
};

class FakeHost : public sdk::detail::Host {
 public:
  static constexpr int kAlways = -1;

  FakeHost();
  ~FakeHost() override;
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  Cluster& cluster() { return cluster_; }
  // The operator's config (wop_config_get), read by its next wop_init. Default {}.
  void setConfig(json config) { config_ = std::move(config); }

  // ---- driving an operator
  // Reconciles key ("ns/name", or "name" for cluster-scoped objects) with the controller of
  // that name (default: the first declared), answering its API calls until it reports its
  // Result. A reconcile that awaits a call that is never answered returns an error Result.
  sdk::Result reconcile(sdk::Operator& op, std::string_view key, std::string_view controller = "");
  // What a watch event on `object` (added, changed or deleted) leads to: for each controller
  // and each declared For/Owns/Watches the object matches (kind, namespace, selector), its
  // own key (For, MapTo::Self), its controller owner's key (Owns, MapTo::Owner; if the owner
  // is of the For kind), or the keys the mapper returns (MapTo::Function, through wop_map).
  // Each controller's keys once, in order.
  std::vector<Enqueued> keysFor(sdk::Operator& op, const json& object);

  // ---- injecting failures (first match wins; `times` answers, then the rule is spent)
  // Cache reads matching answer `wopStatus` (WOP_ERR_FORBIDDEN, WOP_ERR_UNAVAILABLE, ...).
  void failReads(Match match, int32_t wopStatus, int times = kAlways);
  // API calls matching answer `status`: an HTTP status (the cluster is not touched; the body
  // is a metav1.Status), or a negative wop_status (the host refuses the call).
  void failCalls(Match match, int32_t status, int times = kAlways);
  void clearFailures();

  // ---- outbound HTTP (ctx.http)
  // Answers the operator's HTTP calls, in the order they are awaited. A status < 0 in the
  // response is a host refusal (WOP_ERR_FORBIDDEN, WOP_ERR_UNAVAILABLE, ...) with its error.
  // Without a handler every call is refused with WOP_ERR_FORBIDDEN, as a host refuses a host
  // the operator's spec.allowedHosts does not list (it lists none by default).
  using HttpHandler = std::function<sdk::HttpResponse(const sdk::HttpRequest&)>;
  void serveHttp(HttpHandler handler) { httpHandler_ = std::move(handler); }
  // Every HTTP request the operator made, in order (refused ones too).
  const std::vector<sdk::HttpRequest>& httpRequests() const { return httpRequests_; }

  // ---- what happened
  const std::vector<RecordedCall>& calls() const { return calls_; }
  std::vector<RecordedCall> calls(std::string_view verb) const;
  const std::vector<RecordedEvent>& events() const { return events_; }
  const std::vector<LogLine>& logs() const { return logs_; }
  const std::vector<json>& declarations() const { return declarations_; }
  const std::vector<json>& cacheReads() const { return cacheReads_; }
  void clearRecords();

  // ---- lower level, for tests that drive an sdk::detail::Runtime themselves
  // Calls waiting for their answer (a Runtime driven by hand gets them through complete()).
  size_t queuedCalls() const { return queue_.size(); }
  // What the Runtime reported through wop_reconcile_done.
  struct Done {
    uint32_t reconcileId;
    int32_t outcome;  // WOP_RECONCILE_*
    int64_t requeueAfterMs;
    std::string message;
  };
  const std::vector<Done>& done() const { return done_; }
  const std::vector<std::string>& emitted() const { return emitted_; }
  // Refuse the next declarations with this status (< 0), or accept them (WOP_OK).
  void refuseDeclarations(int32_t status) { declareStatus_ = status; }

  // ---- sdk::detail::Host
  void log(int32_t level, std::string_view message) override;
  int32_t configGet(std::string* out) override;
  int32_t declare(std::string_view declaration) override;
  int32_t cacheRead(std::string_view request, std::string* out) override;
  int32_t apiCall(std::string_view request) override;
  int32_t httpCall(std::string_view request) override;
  int32_t reconcileDone(uint32_t reconcileId, int32_t outcome, int64_t requeueAfterMs,
                        std::string_view message) override;
  int32_t emitKey(std::string_view key) override;

 private:
  struct Rule {
    Match match;
    int32_t status;
    int times;
  };
  struct Queued {
    int32_t token;
    size_t call;                          // index into calls_ (or httpRequests_ if http)
    std::optional<sdk::Response> preset;  // an injected failure
    bool http = false;                    // a wop_http_call, answered by httpHandler_
  };
  // Initialises op if it is not the current operator; false if its wop_init failed.
  bool bind(sdk::Operator& op);
  static bool matches(const Match& match, const json& request, std::string_view verb);
  // The status of the first rule that matches (spending one of its answers).
  std::optional<int32_t> takeRule(std::vector<Rule>& rules, const json& request,
                                  std::string_view verb);
  sdk::Response answer(const json& request);
  int32_t readCache(const json& request, std::string* out);

  Cluster cluster_;
  json config_ = json::object();
  sdk::detail::Host* previousHost_ = nullptr;
  sdk::Operator* operator_ = nullptr;
  std::unique_ptr<sdk::detail::Runtime> runtime_;
  std::vector<Rule> readFailures_;
  std::vector<Rule> callFailures_;
  std::vector<Queued> queue_;
  HttpHandler httpHandler_;
  std::vector<sdk::HttpRequest> httpRequests_;
  int32_t nextToken_ = 1;
  uint32_t nextReconcileId_ = 1;
  int32_t declareStatus_ = WOP_OK;

  std::vector<RecordedCall> calls_;
  std::vector<RecordedEvent> events_;
  std::vector<LogLine> logs_;
  std::vector<json> declarations_;  // by controller id
  std::vector<json> cacheReads_;
  std::vector<Done> done_;
  std::vector<std::string> emitted_;
};

// The operator WOP_OPERATOR(Type) defines in the sources linked into the test (natively, the
// macro defines a factory): tests of an operator whose class is not in a header use this.
inline std::unique_ptr<sdk::Operator> newOperator() { return sdk::detail::newOperator(); }

}  // namespace wop::testing
