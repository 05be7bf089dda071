#include "wop/reconciler.h"

#include <gtest/gtest.h>

#include "wop/object.h"
#include "wop/runtime.h"
#include "wop/testing/fake_host.h"

namespace wop::sdk {
namespace {

using nlohmann::json;
using wop::testing::FakeHost;

constexpr Kind kWidget{"example.dev/v1", "Widget"};

// Returns whatever `next` says, after recording the request it got.
class Scripted : public Operator {
 public:
  std::vector<Controller> controllers(const Config&) override {
    return {Controller("widgets").For(kWidget)};
  }
  Task<Result> reconcile(Context&, const Request& req) override {
    seen.push_back(req);
    co_return next;
  }
  std::vector<Request> seen;
  Result next = Result::done();
};

TEST(SdkReconciler, ParsesKeys) {
  auto namespaced = Request::fromKey("ring-0/a");
  EXPECT_EQ(namespaced.ns, "ring-0");
  EXPECT_EQ(namespaced.name, "a");
  EXPECT_EQ(namespaced.key(), "ring-0/a");
  auto clusterScoped = Request::fromKey("node-1");
  EXPECT_EQ(clusterScoped.ns, "");
  EXPECT_EQ(clusterScoped.name, "node-1");
  EXPECT_EQ(clusterScoped.key(), "node-1");
  EXPECT_EQ(Request::fromKey("ns/a/b").name, "a/b");  // the host validates keys; we keep all
}

TEST(SdkReconciler, MapsEachResultToItsOutcome) {
  FakeHost host;
  detail::Runtime runtime(host);
  Scripted op;
  ASSERT_EQ(runtime.init(op), WOP_OK);

  op.next = Result::done();
  runtime.reconcile(7, 0, "ns/a");
  op.next = Result::requeueAfter(30000);
  runtime.reconcile(8, 0, "ns/b");
  op.next = Result::error("boom", 500);
  runtime.reconcile(9, 0, "ns/c");

  ASSERT_EQ(host.done().size(), 3u);
  EXPECT_EQ(host.done()[0].reconcileId, 7u);
  EXPECT_EQ(host.done()[0].outcome, WOP_RECONCILE_DONE);
  EXPECT_EQ(host.done()[1].outcome, WOP_RECONCILE_REQUEUE_AFTER);
  EXPECT_EQ(host.done()[1].requeueAfterMs, 30000);
  EXPECT_EQ(host.done()[2].outcome, WOP_RECONCILE_ERROR);
  EXPECT_EQ(host.done()[2].requeueAfterMs, 500);
  EXPECT_EQ(host.done()[2].message, "boom");
  ASSERT_EQ(op.seen.size(), 3u);
  EXPECT_EQ(op.seen[2].ns, "ns");
  EXPECT_EQ(op.seen[2].name, "c");
  EXPECT_EQ(runtime.runningReconciles(), 0u);
}

TEST(SdkReconciler, ATerminalErrorIsItsOwnOutcomeWithItsMessage) {
  FakeHost host;
  detail::Runtime runtime(host);
  Scripted op;
  ASSERT_EQ(runtime.init(op), WOP_OK);
  op.next = Result::terminal("spec.replicas must be positive");
  EXPECT_TRUE(op.next.isError());
  EXPECT_TRUE(op.next.isTerminal());
  EXPECT_FALSE(Result::error("again").isTerminal());
  runtime.reconcile(3, 0, "ns/a");
  ASSERT_EQ(host.done().size(), 1u);
  EXPECT_EQ(host.done()[0].outcome, WOP_RECONCILE_TERMINAL);
  EXPECT_EQ(host.done()[0].requeueAfterMs, 0);
  EXPECT_EQ(host.done()[0].message, "spec.replicas must be positive");
}

TEST(SdkReconciler, UnknownControllerIdFailsTheReconcile) {
  FakeHost host;
  detail::Runtime runtime(host);
  Scripted op;
  ASSERT_EQ(runtime.init(op), WOP_OK);
  runtime.reconcile(1, 5, "ns/a");
  ASSERT_EQ(host.done().size(), 1u);
  EXPECT_EQ(host.done()[0].outcome, WOP_RECONCILE_ERROR);
  EXPECT_TRUE(op.seen.empty());
}

// Reads its object from the cache, then creates a child and records an event: two calls.
class TwoCalls : public Operator {
 public:
  std::vector<Controller> controllers(const Config&) override {
    return {Controller("widgets").For(kWidget).Owns(kinds::ConfigMap)};
  }
  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto widget = ctx.client.get(kWidget, req.ns, req.name);
    if (widget.failed()) co_return Result::error(widget.error());
    if (widget.notFound()) co_return Result::done();
    json child = {{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"namespace", req.ns}, {"name", req.name + "-config"}}}};
    setControllerReference(*widget, child);
    auto created = co_await ctx.client.create(child);
    steps.push_back("created " + std::to_string(created.status));
    if (!created.ok()) co_return Result::error(created.errorMessage());
    auto event = co_await ctx.client.recordEvent(*widget, "Normal", "Created", "made a child");
    steps.push_back("event " + std::to_string(event.status));
    co_return Result::requeueAfter(1000);
  }
  std::vector<std::string> steps;
};

json widget(std::string ns, std::string name) {
  return {
      {"apiVersion", "example.dev/v1"},
      {"kind", "Widget"},
      {"metadata", {{"namespace", ns}, {"name", name}, {"uid", "u-1"}, {"resourceVersion", "5"}}}};
}

TEST(SdkReconciler, AwaitsTwoCallsInOrderThenReports) {
  FakeHost host;
  host.cluster().put(widget("ns", "w"));
  detail::Runtime runtime(host);
  TwoCalls op;
  ASSERT_EQ(runtime.init(op), WOP_OK);

  EXPECT_EQ(runtime.reconcile(3, 0, "ns/w"), WOP_OK);
  ASSERT_EQ(host.calls().size(), 1u);
  EXPECT_EQ(host.calls()[0].request["verb"], "create");
  EXPECT_EQ(host.calls()[0].request["body"]["metadata"]["ownerReferences"][0]["uid"], "u-1");
  EXPECT_TRUE(host.done().empty()) << "still waiting for the create";

  runtime.complete(1, 201, "{}");
  ASSERT_EQ(host.calls().size(), 2u);
  EXPECT_EQ(host.calls()[1].request["verb"], "event");
  EXPECT_TRUE(host.done().empty()) << "still waiting for the event";

  runtime.complete(2, 201, "{}");
  EXPECT_EQ(op.steps, (std::vector<std::string>{"created 201", "event 201"}));
  ASSERT_EQ(host.done().size(), 1u);
  EXPECT_EQ(host.done()[0].reconcileId, 3u);
  EXPECT_EQ(host.done()[0].outcome, WOP_RECONCILE_REQUEUE_AFTER);
  EXPECT_EQ(host.done()[0].requeueAfterMs, 1000);
}

TEST(SdkReconciler, ConcurrentReconcilesInterleaveAtAwaits) {
  FakeHost host;
  host.cluster().put(widget("ns", "a"));
  host.cluster().put(widget("ns", "b"));
  detail::Runtime runtime(host);
  TwoCalls op;
  ASSERT_EQ(runtime.init(op), WOP_OK);
  runtime.reconcile(1, 0, "ns/a");  // token 1
  runtime.reconcile(2, 0, "ns/b");  // token 2
  EXPECT_EQ(runtime.runningReconciles(), 2u);
  runtime.complete(2, 409, R"({"kind":"Status","message":"already exists"})");
  ASSERT_EQ(host.done().size(), 1u);
  EXPECT_EQ(host.done()[0].reconcileId, 2u);
  EXPECT_EQ(host.done()[0].outcome, WOP_RECONCILE_ERROR);
  EXPECT_EQ(host.done()[0].message, "HTTP 409: already exists");
  runtime.complete(1, 201, "{}");  // a's event: token 3
  runtime.complete(3, 201, "{}");
  ASSERT_EQ(host.done().size(), 2u);
  EXPECT_EQ(host.done()[1].reconcileId, 1u);
  EXPECT_EQ(runtime.runningReconciles(), 0u);
}

TEST(SdkReconciler, DeletedObjectIsDoneWithoutCalls) {
  FakeHost host;
  detail::Runtime runtime(host);
  TwoCalls op;
  ASSERT_EQ(runtime.init(op), WOP_OK);
  runtime.reconcile(1, 0, "ns/gone");
  EXPECT_TRUE(host.calls().empty());
  ASSERT_EQ(host.done().size(), 1u);
  EXPECT_EQ(host.done()[0].outcome, WOP_RECONCILE_DONE);
}

}  // namespace
}  // namespace wop::sdk
