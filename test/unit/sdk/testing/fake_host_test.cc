// The fake host drives a reconciler as the real host would, from an in-memory cluster.
#include "wop/testing/fake_host.h"

#include <gtest/gtest.h>

#include "wop/log.h"
#include "wop/object.h"

namespace wop::testing {
namespace {

using sdk::Context;
using sdk::Controller;
using sdk::Request;
using sdk::Result;
using sdk::Task;
using sdk::kinds::ConfigMap;

constexpr sdk::Kind kWidget{"example.dev/v1", "Widget"};

json widget(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "example.dev/v1"},
          {"kind", "Widget"},
          {"metadata", {{"namespace", ns}, {"name", name}, {"labels", {{"tier", "gold"}}}}}};
}

// A Widget gets a ConfigMap "<name>-config" it owns, and an Event; a labelled Namespace maps
// to every Widget of the same name in "ns"; Secrets are only cached.
class Widgets : public sdk::Operator {
 public:
  std::vector<Controller> controllers(const sdk::Config& config) override {
    prefix_ = config.string("prefix", "");
    return {Controller("widgets")
                .For(kWidget, "", "tier=gold")
                .Owns(ConfigMap)
                .Watches(sdk::kinds::Namespace, "", "team",
                         [](const json& ns) {
                           return std::vector<std::string>{"ns/" + sdk::nameOf(ns)};
                         })
                .Watches(sdk::kinds::Secret, "ns", "", sdk::MapTo::None),
            Controller("second").For(sdk::kinds::Secret, "ns")};
  }
  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto found = ctx.client.get(kWidget, req.ns, req.name);
    if (found.failed()) co_return Result::error(found.error());
    if (found.notFound()) co_return Result::done();
    json child = {{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"namespace", req.ns}, {"name", prefix_ + req.name + "-config"}}}};
    sdk::setControllerReference(*found, child);
    auto created = co_await ctx.client.create(child);
    if (!created.ok() && !created.conflict()) co_return Result::error(created.errorMessage());
    sdk::log::info("made %s", sdk::nameOf(child).c_str());
    auto event = co_await ctx.client.recordEvent(*found, "Normal", "Made", "made a child");
    if (!event.ok()) co_return Result::error(event.errorMessage());
    co_return Result::requeueAfter(60000);
  }

 private:
  std::string prefix_;
};

TEST(TestingFakeHost, ReconcilesAgainstTheClusterAndRecordsWhatHappened) {
  FakeHost fake;
  fake.setConfig({{"prefix", "p-"}});
  fake.cluster().put(widget("ns", "w"));
  Widgets op;
  auto result = fake.reconcile(op, "ns/w");
  EXPECT_EQ(result.kind(), Result::Kind::kRequeueAfter) << result.message();
  EXPECT_EQ(result.delayMs(), 60000);
  const json* child = fake.cluster().find(ConfigMap, "ns", "p-w-config");
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(sdk::controllerOf(*child).value()["name"], "w");
  ASSERT_EQ(fake.calls().size(), 2u);
  EXPECT_EQ(fake.calls()[0].status, 201);
  ASSERT_EQ(fake.events().size(), 1u);
  EXPECT_EQ(fake.events()[0].reason, "Made");
  EXPECT_EQ(fake.events()[0].involvedObject["name"], "w");
  ASSERT_EQ(fake.declarations().size(), 2u);
  ASSERT_FALSE(fake.logs().empty());
  EXPECT_EQ(fake.logs().back().message, "made p-w-config");
}

TEST(TestingFakeHost, InjectedFailuresReachTheReconciler) {
  FakeHost fake;
  fake.cluster().put(widget("ns", "w"));
  Widgets op;
  fake.failCalls({.verb = "create", .kind = "ConfigMap"}, 403, /*times=*/1);
  auto forbidden = fake.reconcile(op, "ns/w");
  EXPECT_TRUE(forbidden.isError());
  EXPECT_NE(forbidden.message().find("403"), std::string::npos) << forbidden.message();
  EXPECT_EQ(fake.cluster().find(ConfigMap, "ns", "w-config"), nullptr) << "not executed";

  fake.failCalls({.verb = "event"}, WOP_ERR_LIMIT, 1);
  auto refused = fake.reconcile(op, "ns/w");
  EXPECT_TRUE(refused.isError());
  EXPECT_NE(refused.message().find("WOP_ERR_LIMIT"), std::string::npos) << refused.message();
  EXPECT_EQ(fake.calls("event").back().status, WOP_ERR_LIMIT);

  fake.failReads({.kind = "Widget", .name = "w"}, WOP_ERR_UNAVAILABLE);
  EXPECT_TRUE(fake.reconcile(op, "ns/w").isError());
  fake.clearFailures();
  EXPECT_FALSE(fake.reconcile(op, "ns/w").isError());
}

TEST(TestingFakeHost, ServesOnlyWhatWasDeclared) {
  FakeHost fake;
  Widgets op;
  ASSERT_FALSE(fake.reconcile(op, "ns/none").isError());  // declares
  sdk::detail::Host& host = fake;
  std::string out;
  auto read = [&](json request) { return host.cacheRead(request.dump(), &out); };
  EXPECT_EQ(read({{"apiVersion", "v1"}, {"kind", "Pod"}, {"namespace", "ns"}, {"name", "p"}}),
            WOP_ERR_FORBIDDEN)
      << "never declared";
  EXPECT_EQ(read({{"apiVersion", "v1"}, {"kind", "Secret"}, {"namespace", "other"}, {"name", "s"}}),
            WOP_ERR_FORBIDDEN)
      << "declared in another namespace";
  EXPECT_EQ(read({{"apiVersion", "v1"}, {"kind", "Secret"}, {"namespace", "ns"}, {"name", "s"}}),
            WOP_ERR_NOT_FOUND);
  EXPECT_EQ(read({{"apiVersion", "example.dev/v1"},
                  {"kind", "Widget"},
                  {"namespace", "ns"},
                  {"labelSelector", ""}}),
            WOP_ERR_FORBIDDEN)
      << "the watch holds tier=gold only";
  EXPECT_EQ(read({{"apiVersion", "example.dev/v1"},
                  {"kind", "Widget"},
                  {"namespace", "ns"},
                  {"labelSelector", "tier=gold,x"}}),
            WOP_OK);
  json plain = widget("ns", "plain");
  plain["metadata"].erase("labels");
  fake.cluster().put(plain);
  EXPECT_EQ(read({{"apiVersion", "example.dev/v1"},
                  {"kind", "Widget"},
                  {"namespace", "ns"},
                  {"name", "plain"}}),
            WOP_ERR_NOT_FOUND)
      << "outside the watch's selector: not in the cache";
}

TEST(TestingFakeHost, EventsLeadWhereTheDeclarationsSay) {
  FakeHost fake;
  Widgets op;
  json w = fake.cluster().put(widget("ns", "w"));
  json child = {{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"namespace", "ns"}, {"name", "c"}}}};
  sdk::setControllerReference(w, child);
  json team = {{"apiVersion", "v1"},
               {"kind", "Namespace"},
               {"metadata", {{"name", "blue"}, {"labels", {{"team", "x"}}}}}};
  json secret = {
      {"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"namespace", "ns"}, {"name", "s"}}}};
  EXPECT_EQ(fake.keysFor(op, w), (std::vector<Enqueued>{{"widgets", "ns/w"}}));
  EXPECT_EQ(fake.keysFor(op, child), (std::vector<Enqueued>{{"widgets", "ns/w"}}));
  EXPECT_EQ(fake.keysFor(op, team), (std::vector<Enqueued>{{"widgets", "ns/blue"}}));
  EXPECT_EQ(fake.keysFor(op, secret), (std::vector<Enqueued>{{"second", "ns/s"}}))
      << "cached only for widgets; the primary of second";
}

TEST(TestingFakeHost, ChoosesTheControllerByName) {
  FakeHost fake;
  Widgets op;
  EXPECT_FALSE(fake.reconcile(op, "ns/s", "second").isError());
  EXPECT_TRUE(fake.reconcile(op, "ns/s", "third").isError());
}

// Reports on Namespaces: an Event about a cluster-scoped object.
class Namespaces : public sdk::Operator {
 public:
  std::vector<Controller> controllers(const sdk::Config&) override {
    return {Controller("namespaces").For(sdk::kinds::Namespace)};
  }
  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto found = ctx.client.get(sdk::kinds::Namespace, req.ns, req.name);
    if (!found.found()) co_return Result::error("no namespace " + req.name);
    auto event = co_await ctx.client.recordEvent(*found, "Warning", "Odd", "odd");
    co_return event.ok() ? Result::done() : Result::error(event.errorMessage());
  }
};

TEST(TestingFakeHost, EventsAboutClusterScopedObjectsGoToDefault) {
  FakeHost fake;
  fake.cluster().put(
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "blue"}}}});
  Namespaces op;
  auto result = fake.reconcile(op, "blue");
  EXPECT_FALSE(result.isError()) << result.message();
  ASSERT_EQ(fake.events().size(), 1u);
  EXPECT_EQ(fake.events()[0].ns, "default");
  EXPECT_EQ(fake.events()[0].involvedObject["kind"], "Namespace");
}

// Publishes a ConfigMap's data.record to an external DNS API and notes the answer's id.
class Publisher : public sdk::Operator {
 public:
  std::vector<Controller> controllers(const sdk::Config&) override {
    return {Controller("publisher").For(ConfigMap, "ns")};
  }
  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto found = ctx.client.get(ConfigMap, req.ns, req.name);
    if (!found.found()) co_return Result::done();
    sdk::HttpRequest post{.method = "POST",
                          .url = "https://dns.example.com/v1/records",
                          .headers = {{"Content-Type", "text/plain"}},
                          .body = sdk::getString(*found, {"data", "record"}).value_or("")};
    sdk::HttpResponse answer = co_await ctx.http.send(post);
    if (!answer.ok()) co_return Result::error(answer.errorMessage());
    auto patched = co_await ctx.client.patch(*found, {{"data", {{"id", answer.body}}}});
    co_return patched.ok() ? Result::done() : Result::error(patched.errorMessage());
  }
};

json recordMap() {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"namespace", "ns"}, {"name", "www"}}},
          {"data", {{"record", "www A 10.0.0.7"}}}};
}

TEST(TestingFakeHost, ServesOutboundHttpFromTheTestsHandler) {
  FakeHost fake;
  fake.cluster().put(recordMap());
  fake.serveHttp([](const sdk::HttpRequest& request) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.body, "www A 10.0.0.7");
    return sdk::HttpResponse{
        .status = 201, .headers = {{"content-type", "text/plain"}}, .body = "rec-42"};
  });
  Publisher op;
  auto result = fake.reconcile(op, "ns/www");
  EXPECT_FALSE(result.isError()) << result.message();
  ASSERT_EQ(fake.httpRequests().size(), 1u);
  EXPECT_EQ(fake.httpRequests()[0].url, "https://dns.example.com/v1/records");
  ASSERT_EQ(fake.httpRequests()[0].headers.size(), 1u);
  EXPECT_EQ(fake.httpRequests()[0].headers[0].second, "text/plain");
  EXPECT_EQ(fake.cluster().find(ConfigMap, "ns", "www")->at("data").at("id"), "rec-42");
}

TEST(TestingFakeHost, WithoutAHandlerHttpIsRefusedAsANotAllowedHost) {
  FakeHost fake;
  fake.cluster().put(recordMap());
  Publisher op;
  auto result = fake.reconcile(op, "ns/www");
  EXPECT_TRUE(result.isError());
  EXPECT_NE(result.message().find("FORBIDDEN"), std::string::npos) << result.message();
  EXPECT_EQ(fake.httpRequests().size(), 1u);
}

TEST(TestingFakeHost, AHandlersHostErrorReachesTheOperator) {
  FakeHost fake;
  fake.cluster().put(recordMap());
  fake.serveHttp([](const sdk::HttpRequest&) {
    return sdk::HttpResponse{.status = WOP_ERR_UNAVAILABLE, .error = "no answer within 10000 ms"};
  });
  Publisher op;
  auto result = fake.reconcile(op, "ns/www");
  EXPECT_TRUE(result.isError());
  EXPECT_NE(result.message().find("no answer within 10000 ms"), std::string::npos)
      << result.message();
  EXPECT_FALSE(fake.cluster().find(ConfigMap, "ns", "www")->at("data").contains("id"));
}

}  // namespace
}  // namespace wop::testing
