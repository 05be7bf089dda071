#include "runtime/controllers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_operator_parts.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using std::chrono::milliseconds;
using testing::configMap;
using ::testing::ElementsAre;
using testing::FakeInformers;

const kube::ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
const kube::ResourceInfo kSecrets{{"", "v1", "secrets"}, "Secret", true};

class RecordingEvents final : public ControllerEvents {
 public:
  void keyQueued(size_t c, const std::string& key) override {
    queued.push_back(std::to_string(c) + "/" + key);
  }
  void mapRequested(MapRequest request) override { maps.push_back(std::move(request)); }
  void resynced() override { resyncs++; }
  void cachesSynced() override { synced++; }
  std::vector<std::string> queued;
  std::vector<MapRequest> maps;
  int resyncs = 0;
  int synced = 0;
};

ControllerDeclaration declaration(const std::string& json) {
  auto parsed = parseDeclaration(json);
  EXPECT_TRUE(parsed) << parsed.status().toString();
  return *parsed;
}

class ControllersTest : public ::testing::Test {
 protected:
  // One controller of ConfigMaps that owns Secrets, with a function-mapped and a cache-only
  // watch of ConfigMaps after them.
  void build(const std::string& extra = "") {
    auto d = declaration(R"({"name":"copier","for":{"apiVersion":"v1","kind":"ConfigMap"},
        "owns":[{"apiVersion":"v1","kind":"Secret"}],
        "watches":[{"apiVersion":"v1","kind":"ConfigMap","labelSelector":"copy=yes","mapTo":"function"},
                   {"apiVersion":"v1","kind":"ConfigMap","labelSelector":"cache=only","mapTo":"none"}])" +
                         extra + "}");
    auto made = Controllers::create({{d, {kConfigMaps, kSecrets, kConfigMaps, kConfigMaps}}},
                                    clock_, RateLimits{}, metrics_);
    ASSERT_TRUE(made) << made.status().toString();
    controllers_ = *made;
    controllers_->start(informers_.subscribe(), timers_, events_);
  }
  cache::Handlers& handlers(size_t watch) { return informers_.subscribed.at(watch).handlers; }

  common::FakeClock clock_;
  common::ManualTimers timers_{clock_};
  FakeInformers informers_;
  std::shared_ptr<RecordingEvents> events_ = std::make_shared<RecordingEvents>();
  std::shared_ptr<OperatorMetrics> metrics_ = std::make_shared<OperatorMetrics>();
  std::shared_ptr<Controllers> controllers_;
};

TEST_F(ControllersTest, SubscribesOneInformerPerWatchWithItsNamespaceAndSelector) {
  build();
  ASSERT_EQ(informers_.subscribed.size(), 4u);
  EXPECT_EQ(informers_.subscribed[1].key.resource.gvr.resource, "secrets");
  EXPECT_EQ(informers_.subscribed[2].key.labelSelector, "copy=yes");
}

TEST_F(ControllersTest, AChangeOfThePrimaryQueuesItsOwnKeyOnce) {
  build();
  handlers(0).onAdd(configMap("shop", "settings"));
  handlers(0).onUpdate(configMap("shop", "settings", "1"), configMap("shop", "settings", "2"));
  EXPECT_THAT(events_->queued, ElementsAre("0/shop/settings", "0/shop/settings"));
  auto first = controllers_->startNext();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->key, "shop/settings");
  EXPECT_FALSE(controllers_->startNext()) << "a key queued twice is reconciled once";
}

TEST_F(ControllersTest, AnUpdateThePredicatesRejectQueuesNothing) {
  build();
  handlers(0).onUpdate(configMap("shop", "settings", "5"), configMap("shop", "settings", "5"));
  EXPECT_TRUE(events_->queued.empty());
}

TEST_F(ControllersTest, AnOwnedObjectQueuesItsControllerOwner) {
  build();
  handlers(1).onAdd(configMap(
      "shop", "copy", "1",
      R"(,"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"settings","uid":"u","controller":true}])"));
  EXPECT_THAT(events_->queued, ElementsAre("0/shop/settings"));
}

TEST_F(ControllersTest, AFunctionMappedWatchAfterAnOwnedKindIsIndexedAmongTheWatchesOnly) {
  build();
  handlers(2).onAdd(configMap("shop", "source"));
  ASSERT_EQ(events_->maps.size(), 1u);
  EXPECT_EQ(events_->maps[0].controller, 0u);
  EXPECT_EQ(events_->maps[0].watch, 0u) << "wop_map's watch_index is the position in \"watches\"";
  controllers_->addMappedKey(0, "shop/target");
  EXPECT_THAT(events_->queued, ElementsAre("0/shop/target"));
}

TEST_F(ControllersTest, ACacheOnlyWatchQueuesNothing) {
  build();
  handlers(3).onAdd(configMap("shop", "cached"));
  EXPECT_TRUE(events_->queued.empty());
  EXPECT_TRUE(events_->maps.empty());
}

TEST_F(ControllersTest, CachesAreSyncedOnceEveryWatchHasListed) {
  build();
  EXPECT_FALSE(controllers_->synced());
  for (size_t w = 0; w + 1 < informers_.subscribed.size(); ++w) handlers(w).onSynced();
  EXPECT_FALSE(controllers_->synced());
  EXPECT_EQ(events_->synced, 0);
  handlers(3).onSynced();
  EXPECT_TRUE(controllers_->synced());
  EXPECT_EQ(events_->synced, 1);
}

TEST_F(ControllersTest, MaxConcurrentReconcilesBoundsKeysInFlight) {
  build(R"(,"maxConcurrentReconciles":2)");
  for (const char* name : {"a", "b", "c"}) handlers(0).onAdd(configMap("shop", name));
  auto a = controllers_->startNext();
  auto b = controllers_->startNext();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(controllers_->hasStartable());
  EXPECT_TRUE(controllers_->hasReady());
  EXPECT_FALSE(controllers_->startNext());
  EXPECT_EQ(controllers_->finish(a->id, WOP_RECONCILE_DONE, 0).result, Controllers::Finish::kDone);
  EXPECT_TRUE(controllers_->startNext());
}

TEST_F(ControllersTest, RequeueAfterBringsTheKeyBackOnVirtualTime) {
  build();
  handlers(0).onAdd(configMap("shop", "settings"));
  auto r = controllers_->startNext();
  ASSERT_TRUE(r);
  controllers_->finish(r->id, WOP_RECONCILE_REQUEUE_AFTER, 5000);
  EXPECT_FALSE(controllers_->hasReady());
  ASSERT_TRUE(controllers_->nextDue());
  EXPECT_EQ(*controllers_->nextDue() - clock_.now(), milliseconds(5000));
  clock_.advance(milliseconds(4999));
  EXPECT_FALSE(controllers_->hasReady());
  clock_.advance(milliseconds(1));
  EXPECT_TRUE(controllers_->hasReady());
}

TEST_F(ControllersTest, AnErrorRetriesWithGrowingBackoff) {
  build();
  handlers(0).onAdd(configMap("shop", "settings"));
  std::vector<common::Duration> delays;
  for (int i = 0; i < 3; ++i) {
    auto r = controllers_->startNext();
    ASSERT_TRUE(r);
    controllers_->finish(r->id, WOP_RECONCILE_ERROR, 0);
    ASSERT_TRUE(controllers_->nextDue());
    delays.push_back(*controllers_->nextDue() - clock_.now());
    clock_.advance(delays.back());
  }
  EXPECT_LT(delays[0], delays[1]);
  EXPECT_LT(delays[1], delays[2]);
}

TEST_F(ControllersTest, ABrokenFinishIsRefusedAndSaysWhy) {
  build();
  EXPECT_EQ(controllers_->finish(99, WOP_RECONCILE_DONE, 0).result,
            Controllers::Finish::kUnknownId);
  handlers(0).onAdd(configMap("shop", "settings"));
  auto r = controllers_->startNext();
  EXPECT_EQ(controllers_->finish(r->id, 42, 0).result, Controllers::Finish::kUnknownOutcome);
  const auto negative = controllers_->finish(r->id, WOP_RECONCILE_REQUEUE_AFTER, -5);
  EXPECT_EQ(negative.result, Controllers::Finish::kNegativeDelay);
  EXPECT_EQ(negative.key, "shop/settings");
  EXPECT_TRUE(controllers_->nextDue()) << "retried with backoff, not at once";
}

TEST_F(ControllersTest, ReconcilesInFlightOnADroppedInstanceAreQueuedAgain) {
  build(R"(,"maxConcurrentReconciles":2)");
  handlers(0).onAdd(configMap("shop", "a"));
  handlers(0).onAdd(configMap("shop", "b"));
  ASSERT_TRUE(controllers_->startNext());
  ASSERT_TRUE(controllers_->startNext());
  controllers_->retryInFlight();
  EXPECT_FALSE(controllers_->hasInFlight());
  EXPECT_EQ(controllers_->queuedKeys(), 2u);
}

TEST_F(ControllersTest, AResyncPeriodFiresOnVirtualTimeWithinItsJitter) {
  build(R"(,"resyncSeconds":10)");
  timers_.advance(milliseconds(8999));
  EXPECT_EQ(events_->resyncs, 0);
  timers_.advance(milliseconds(2002));
  EXPECT_EQ(events_->resyncs, 1);
  timers_.advance(std::chrono::seconds(11));
  EXPECT_EQ(events_->resyncs, 2);
}

TEST_F(ControllersTest, NothingIsQueuedAfterStop) {
  build(R"(,"resyncSeconds":10)");
  controllers_->stop();
  handlers(0).onAdd(configMap("shop", "settings"));
  timers_.advance(std::chrono::seconds(30));
  EXPECT_TRUE(events_->queued.empty());
  EXPECT_EQ(events_->resyncs, 0);
}

TEST_F(ControllersTest, AWatchWithoutItsResourceIsRefused) {
  auto d = declaration(R"({"name":"x","for":{"apiVersion":"v1","kind":"ConfigMap"}})");
  auto made = Controllers::create({{d, {}}}, clock_, RateLimits{});
  EXPECT_FALSE(made);
}

TEST_F(ControllersTest, AnUnknownPredicateIsRefusedNamingTheController) {
  auto d = declaration(R"({"name":"x","for":{"apiVersion":"v1","kind":"ConfigMap"}})");
  d.primary.predicates = {"Sometimes"};
  auto made = Controllers::create({{d, {kConfigMaps}}}, clock_, RateLimits{});
  ASSERT_FALSE(made);
  EXPECT_THAT(made.status().message(), ::testing::HasSubstr("controller x"));
}

TEST_F(ControllersTest, ReconcileResultsAndDurationsAreCountedAsControllerRuntimeNamesThem) {
  build(R"(,"maxConcurrentReconciles":2)");
  for (const char* name : {"a", "b", "c", "d"}) handlers(0).onAdd(configMap("shop", name));
  auto a = controllers_->startNext();
  auto b = controllers_->startNext();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(metrics_->activeReconciles.load(), 2);
  clock_.advance(milliseconds(250));
  controllers_->finish(a->id, WOP_RECONCILE_DONE, 0);
  controllers_->finish(b->id, WOP_RECONCILE_ERROR, 0);
  auto c = controllers_->startNext();
  auto d = controllers_->startNext();
  ASSERT_TRUE(c && d);
  controllers_->finish(c->id, WOP_RECONCILE_REQUEUE_AFTER, 0);
  controllers_->finish(d->id, WOP_RECONCILE_REQUEUE_AFTER, 5000);
  EXPECT_EQ(metrics_->reconcileSuccess.load(), 1u);
  EXPECT_EQ(metrics_->reconcileError.load(), 1u);
  EXPECT_EQ(metrics_->reconcileRequeue.load(), 1u);
  EXPECT_EQ(metrics_->reconcileRequeueAfter.load(), 1u);
  EXPECT_EQ(metrics_->activeReconciles.load(), 0);
  const auto times = metrics_->reconcileSeconds.snapshot();
  EXPECT_EQ(times.count, 4u);
  EXPECT_DOUBLE_EQ(times.sum, 0.5);
  EXPECT_EQ(metrics_->queue.retries.load(), 2u) << "the error and the requeue without a delay";
}

TEST_F(ControllersTest, ReconcilesLostWithTheirInstanceCountAsErrors) {
  build();
  handlers(0).onAdd(configMap("shop", "a"));
  ASSERT_TRUE(controllers_->startNext());
  controllers_->retryInFlight();
  EXPECT_EQ(metrics_->reconcileError.load(), 1u);
  EXPECT_EQ(metrics_->activeReconciles.load(), 0);
}

// controller-runtime's reconcile.TerminalError: an error nobody retries. It counts as an error
// (reconcile_total{result="error"}, reconcile_errors_total) and as a terminal one, and the key
// waits for a change with its backoff forgotten, as after a success.
TEST_F(ControllersTest, ATerminalErrorIsCountedAndForgetsTheKeyInsteadOfRetryingIt) {
  build();
  handlers(0).onAdd(configMap("shop", "settings"));
  auto first = controllers_->startNext();
  ASSERT_TRUE(first);
  controllers_->finish(first->id, WOP_RECONCILE_ERROR, 0);
  ASSERT_TRUE(controllers_->nextDue());
  clock_.advance(*controllers_->nextDue() - clock_.now());
  auto second = controllers_->startNext();
  ASSERT_TRUE(second);
  const auto finished = controllers_->finish(second->id, WOP_RECONCILE_TERMINAL, 0);
  EXPECT_EQ(finished.result, Controllers::Finish::kDone);
  EXPECT_EQ(finished.key, "shop/settings");
  EXPECT_FALSE(controllers_->hasReady());
  EXPECT_FALSE(controllers_->nextDue()) << "not retried, not even after a backoff";
  clock_.advance(std::chrono::hours(1));
  EXPECT_FALSE(controllers_->hasReady());
  EXPECT_EQ(metrics_->reconcileError.load(), 2u);
  EXPECT_EQ(metrics_->reconcileTerminalError.load(), 1u);
  EXPECT_EQ(metrics_->reconcileSuccess.load(), 0u);
  EXPECT_EQ(metrics_->queue.retries.load(), 1u) << "only the plain error was rate limited";

  // A change brings the key back at once: its backoff was forgotten.
  handlers(0).onUpdate(configMap("shop", "settings"), configMap("shop", "settings", "2"));
  EXPECT_TRUE(controllers_->hasReady());
}

}  // namespace
}  // namespace wop::runtime
