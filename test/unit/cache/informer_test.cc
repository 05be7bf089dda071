#include "cache/informer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kube/fake_watch_transport.h"

namespace wop::cache {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace std::chrono_literals;

const kube::ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};

std::string configMap(const std::string& name, const std::string& resourceVersion) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","namespace":"ns","uid":"uid-)" + name + R"(","resourceVersion":")" + resourceVersion +
         R"("},"data":{"v":")" + resourceVersion + R"("}})";
}

// A ConfigMapList page: items are configMap(...) texts.
std::string listOf(const std::string& resourceVersion, const std::vector<std::string>& items,
                   const std::string& continueToken = "") {
  std::string out = R"({"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":")" +
                    resourceVersion + R"(","continue":")" + continueToken + R"("},"items":[)";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]}";
}

constexpr const char* kGoneStatus =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version","reason":"Expired","code":410})";

// Writes what the handlers saw as lines: "add ns/a@1", "update ns/a@1->2", "delete ns/a@2",
// "synced".
struct Recorder {
  std::vector<std::string> seen;

  Handlers handlers() {
    Handlers h;
    h.onAdd = [this](const ObjectPtr& o) {
      seen.push_back("add " + o->key() + "@" + o->resourceVersion);
    };
    h.onUpdate = [this](const ObjectPtr& before, const ObjectPtr& after) {
      seen.push_back("update " + after->key() + "@" + before->resourceVersion + "->" +
                     after->resourceVersion);
    };
    h.onDelete = [this](const ObjectPtr& o) {
      seen.push_back("delete " + o->key() + "@" + o->resourceVersion);
    };
    h.onSynced = [this] { seen.push_back("synced"); };
    return h;
  }
  // What was seen since the last call.
  std::vector<std::string> take() { return std::exchange(seen, {}); }
};

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() {
    kube::ClientConfig config;
    config.server = "https://127.0.0.1:6443";
    config.bearerToken = "token";
    auto transport = std::make_unique<kube::FakeWatchTransport>(clock_);
    transport_ = transport.get();
    // No limiter and no retries inside the client: what happens next is the informer's doing.
    client_ = std::make_unique<kube::Client>(
        config, std::move(transport), kube::ClientOptions{.qps = 0, .maxRetries = 0}, clock_);
  }

  Informer& makeInformer(InformerOptions options = {}) {
    options.backoffBase = 1s;
    options.backoffMax = 30s;
    options.clock = &clock_;
    informer_ = Informer::create(*client_, InformerKey{.resource = kConfigMaps, .ns = "ns"},
                                 std::move(options));
    return *informer_;
  }

  // Starts an informer with recorder_'s handlers and answers its first list; the watch is open.
  Informer& startWithList(const std::string& resourceVersion,
                          const std::vector<std::string>& items) {
    auto& informer = informer_ ? *informer_ : makeInformer();
    informer.addHandlers(recorder_.handlers());
    informer.start();
    transport_->runDue();
    EXPECT_EQ(transport_->pendingRequests(), 1u);
    EXPECT_TRUE(transport_->respond(200, listOf(resourceVersion, items)));
    EXPECT_EQ(transport_->openStreams(), 1u);
    return informer;
  }

  kube::FakeWatchTransport::Stream& watch() { return transport_->lastStream(); }

  std::vector<std::string> storeContents() const {
    std::vector<std::string> out;
    for (const auto& o : informer_->store().list())
      out.push_back(o->key() + "@" + o->resourceVersion);
    return out;
  }

  common::FakeClock clock_;
  kube::FakeWatchTransport* transport_ = nullptr;
  std::unique_ptr<kube::Client> client_;
  Recorder recorder_;
  std::shared_ptr<Informer> informer_;
};

// ---------------------------------------------------------------------------- list, then watch

TEST_F(InformerTest, ListsThenWatchesFromTheListsResourceVersion) {
  auto& informer = makeInformer();
  informer.addHandlers(recorder_.handlers());
  informer.start();
  EXPECT_EQ(transport_->pendingRequests(), 0u);  // nothing runs before the I/O thread does
  transport_->runDue();
  ASSERT_EQ(transport_->pendingRequests(), 1u);
  EXPECT_THAT(transport_->nextRequest().path, HasSubstr("/api/v1/namespaces/ns/configmaps?"));
  EXPECT_THAT(transport_->nextRequest().path, HasSubstr("limit=500"));
  EXPECT_FALSE(informer.hasSynced());

  ASSERT_TRUE(transport_->respond(200, listOf("10", {configMap("a", "7"), configMap("b", "9")})));

  EXPECT_TRUE(informer.hasSynced());
  EXPECT_THAT(recorder_.take(), ElementsAre("add ns/a@7", "add ns/b@9", "synced"));
  EXPECT_THAT(storeContents(), ElementsAre("ns/a@7", "ns/b@9"));
  ASSERT_EQ(transport_->streamCount(), 1u);
  const auto& path = watch().request().path;
  EXPECT_THAT(path, HasSubstr("watch=true"));
  EXPECT_THAT(path, HasSubstr("resourceVersion=10"));
  EXPECT_THAT(path, HasSubstr("allowWatchBookmarks=true"));
  EXPECT_THAT(path, HasSubstr("timeoutSeconds="));
  EXPECT_EQ(informer.counters().lists, 1u);
  EXPECT_EQ(informer.counters().watches, 1u);
}

TEST_F(InformerTest, APagedListIsAppliedOnlyWhenComplete) {
  auto& informer = makeInformer({.pageSize = 1});
  informer.addHandlers(recorder_.handlers());
  informer.start();
  transport_->runDue();
  ASSERT_TRUE(transport_->respond(200, listOf("10", {configMap("a", "7")}, "page-2")));
  EXPECT_THAT(recorder_.take(), IsEmpty());
  EXPECT_FALSE(informer.hasSynced());
  EXPECT_EQ(transport_->streamCount(), 0u);
  ASSERT_EQ(transport_->pendingRequests(), 1u);
  EXPECT_THAT(transport_->nextRequest().path, HasSubstr("continue=page-2"));

  ASSERT_TRUE(transport_->respond(200, listOf("11", {configMap("b", "9")})));
  EXPECT_THAT(recorder_.take(), ElementsAre("add ns/a@7", "add ns/b@9", "synced"));
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=11"));
  EXPECT_EQ(informer.counters().listPages, 2u);
}

TEST_F(InformerTest, AFailedListIsRetriedAfterBackoff) {
  auto& informer = makeInformer();
  informer.addHandlers(recorder_.handlers());
  informer.start();
  transport_->runDue();
  ASSERT_TRUE(transport_->respond(503, R"({"kind":"Status","code":503})"));
  EXPECT_EQ(transport_->pendingRequests(), 0u);
  EXPECT_THAT(informer.lastError(), HasSubstr("list"));
  // The first backoff is 1 s, jittered into [0.5 s, 1.5 s).
  transport_->advance(499ms);
  EXPECT_EQ(transport_->pendingRequests(), 0u);
  transport_->advance(1001ms);
  ASSERT_EQ(transport_->pendingRequests(), 1u);
  ASSERT_TRUE(transport_->respond(200, listOf("10", {configMap("a", "7")})));
  EXPECT_THAT(recorder_.take(), ElementsAre("add ns/a@7", "synced"));
  EXPECT_EQ(informer.counters().errors, 1u);
}

// ---------------------------------------------------------------------------- events

TEST_F(InformerTest, EventsUpdateTheStoreAndCallTheHandlers) {
  auto& informer = startWithList("10", {configMap("a", "7")});
  recorder_.take();

  watch().pushEvent("ADDED", configMap("b", "11"));
  watch().pushEvent("MODIFIED", configMap("a", "12"));
  watch().pushEvent("DELETED", configMap("b", "13"));

  // A delete hands over the object as the store held it (as after a relist, where the final
  // state is unknown), not the DELETED event's copy.
  EXPECT_THAT(recorder_.take(), ElementsAre("add ns/b@11", "update ns/a@7->12", "delete ns/b@11"));
  EXPECT_THAT(storeContents(), ElementsAre("ns/a@12"));
  EXPECT_EQ(informer.counters().events, 3u);
}

// A cluster-wide informer serving namespaced subscribers (cache/shared_informers.h): scoped
// handlers are replayed and told of their own namespace's objects only; unscoped ones of all.
TEST_F(InformerTest, ScopedHandlersHearOnlyOfTheirNamespace) {
  auto inNamespace = [](std::string text, const std::string& ns) {
    text.replace(text.find(R"("namespace":"ns")"), 16, R"("namespace":")" + ns + "\"");
    return text;
  };
  auto& informer =
      startWithList("10", {configMap("a", "7"), inNamespace(configMap("b", "8"), "other")});
  recorder_.take();
  Recorder scoped, elsewhere;
  informer.addHandlers(scoped.handlers(), "other");
  informer.addHandlers(elsewhere.handlers(), "empty");
  transport_->runDue();
  EXPECT_THAT(scoped.take(), ElementsAre("add other/b@8", "synced"));
  EXPECT_THAT(elsewhere.take(), ElementsAre("synced"));

  watch().pushEvent("ADDED", inNamespace(configMap("c", "11"), "other"));
  watch().pushEvent("MODIFIED", configMap("a", "12"));
  EXPECT_THAT(scoped.take(), ElementsAre("add other/c@11"));
  EXPECT_THAT(recorder_.take(), ElementsAre("add other/c@11", "update ns/a@7->12"));
  EXPECT_THAT(elsewhere.take(), IsEmpty());
}

TEST_F(InformerTest, AnEventSplitAcrossChunksIsAppliedOnceWhole) {
  startWithList("10", {});
  recorder_.take();
  const std::string event = R"({"type":"ADDED","object":)" + configMap("a", "11") + "}\n";
  watch().push(event.substr(0, 30));
  EXPECT_THAT(recorder_.take(), IsEmpty());
  watch().push(event.substr(30));
  EXPECT_THAT(recorder_.take(), ElementsAre("add ns/a@11"));
}

TEST_F(InformerTest, ABookmarkAdvancesTheResourceVersionWithoutHandlerCalls) {
  auto& informer = startWithList("10", {configMap("a", "7")});
  recorder_.take();

  watch().pushBookmark("25");
  EXPECT_THAT(recorder_.take(), IsEmpty());
  EXPECT_THAT(storeContents(), ElementsAre("ns/a@7"));
  EXPECT_EQ(informer.counters().bookmarks, 1u);

  // The server ends the watch at its timeout: the next one starts at the bookmark, no relist.
  watch().end();
  EXPECT_EQ(transport_->pendingRequests(), 0u);
  ASSERT_EQ(transport_->streamCount(), 2u);
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=25"));
  EXPECT_EQ(informer.counters().lists, 1u);
  EXPECT_THAT(recorder_.take(), IsEmpty());
}

TEST_F(InformerTest, AWatchEndedByTheServerResumesFromTheLastEvent) {
  auto& informer = startWithList("10", {});
  watch().pushEvent("ADDED", configMap("a", "14"));
  watch().end();
  ASSERT_EQ(transport_->streamCount(), 2u);
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=14"));
  EXPECT_EQ(transport_->pendingRequests(), 0u);
  EXPECT_EQ(informer.counters().errors, 0u);
}

TEST_F(InformerTest, AQuietWatchThatRanItsTimeResumesAtOnce) {
  auto& informer = startWithList("10", {});
  transport_->advance(300s);
  watch().end();
  ASSERT_EQ(transport_->streamCount(), 2u);
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=10"));
  EXPECT_EQ(informer.counters().errors, 0u);
}

// Bug found here: such a watch was reopened at once, again and again, as fast as the server
// (or a proxy that closes watches) answered. Now it backs off, like client-go's reflector.
TEST_F(InformerTest, AWatchThatEndsAtOnceWithNoEventIsRetriedAfterBackoff) {
  auto& informer = startWithList("10", {});
  transport_->advance(999ms);
  watch().end();
  EXPECT_EQ(transport_->streamCount(), 1u);
  EXPECT_THAT(informer.lastError(), HasSubstr("ended at once"));
  transport_->advance(1500ms);
  ASSERT_EQ(transport_->streamCount(), 2u);
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=10"));
  EXPECT_EQ(transport_->pendingRequests(), 0u);  // no relist
  EXPECT_EQ(informer.counters().errors, 1u);
}

// ---------------------------------------------------------------------------- 410 Gone

// The world while the informer was away: a unchanged, b changed, c deleted, d created.
class InformerGoneTest : public InformerTest {
 protected:
  void SetUp() override {
    startWithList("10", {configMap("a", "1"), configMap("b", "2"), configMap("c", "3")});
    recorder_.take();
  }

  void expectRelistReportsOnlyTheDifference() {
    EXPECT_EQ(transport_->openStreams(), 0u);
    ASSERT_EQ(transport_->pendingRequests(), 1u);  // a relist, at once
    EXPECT_THAT(transport_->nextRequest().path, Not(HasSubstr("watch")));
    ASSERT_TRUE(transport_->respond(
        200, listOf("40", {configMap("a", "1"), configMap("b", "20"), configMap("d", "30")})));

    EXPECT_THAT(recorder_.take(), ::testing::UnorderedElementsAre("update ns/b@2->20",
                                                                  "delete ns/c@3", "add ns/d@30"));
    EXPECT_THAT(storeContents(), ElementsAre("ns/a@1", "ns/b@20", "ns/d@30"));
    EXPECT_EQ(informer_->counters().gone, 1u);
    EXPECT_EQ(informer_->counters().lists, 2u);
    ASSERT_EQ(transport_->openStreams(), 1u);
    EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=40"));
  }
};

TEST_F(InformerGoneTest, AnErrorEvent410RelistsAndReportsTheDifference) {
  watch().pushError(410);
  EXPECT_TRUE(transport_->stream(0).cancelled());
  expectRelistReportsOnlyTheDifference();
}

TEST_F(InformerGoneTest, AnHttp410OnTheWatchRelistsAndReportsTheDifference) {
  watch().failWithStatus(410, kGoneStatus);
  expectRelistReportsOnlyTheDifference();
}

TEST_F(InformerGoneTest, EventsAfterTheErrorInTheSameChunkAreNotApplied) {
  const std::string chunk = R"({"type":"ERROR","object":)" + std::string(kGoneStatus) + "}\n" +
                            R"({"type":"ADDED","object":)" + configMap("z", "99") + "}\n";
  watch().push(chunk);
  EXPECT_THAT(recorder_.take(), IsEmpty());
  expectRelistReportsOnlyTheDifference();
}

// ---------------------------------------------------------------------------- reconnecting

TEST_F(InformerTest, ADroppedStreamReconnectsAfterBackoffFromTheLastResourceVersion) {
  auto& informer = startWithList("10", {});
  watch().pushEvent("ADDED", configMap("a", "12"));
  recorder_.take();

  watch().drop();
  EXPECT_EQ(transport_->openStreams(), 0u);
  EXPECT_THAT(informer.lastError(), HasSubstr("connection reset"));
  transport_->advance(499ms);  // the first backoff: 1 s jittered into [0.5 s, 1.5 s)
  EXPECT_EQ(transport_->streamCount(), 1u);
  transport_->advance(1001ms);
  ASSERT_EQ(transport_->streamCount(), 2u);
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=12"));
  EXPECT_EQ(transport_->pendingRequests(), 0u);  // no relist

  // A second failure in a row waits longer: 2 s jittered into [1 s, 3 s).
  watch().drop();
  transport_->advance(999ms);
  EXPECT_EQ(transport_->streamCount(), 2u);
  transport_->advance(2001ms);
  ASSERT_EQ(transport_->streamCount(), 3u);
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=12"));
  EXPECT_EQ(informer.counters().errors, 2u);
  EXPECT_THAT(recorder_.take(), IsEmpty());
}

TEST_F(InformerTest, AnErrorEventOtherThanGoneReconnectsWithoutRelisting) {
  auto& informer = startWithList("10", {});
  watch().pushError(500, "InternalError");
  EXPECT_TRUE(transport_->stream(0).cancelled());
  transport_->advance(1500ms);
  ASSERT_EQ(transport_->streamCount(), 2u);
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=10"));
  EXPECT_EQ(transport_->pendingRequests(), 0u);
  EXPECT_EQ(informer.counters().gone, 0u);
}

TEST_F(InformerTest, AMalformedStreamIsDroppedAndResumed) {
  auto& informer = startWithList("10", {});
  watch().pushEvent("ADDED", configMap("a", "12"));
  watch().push("{\"type\":\"ADDED\",\"object\":[]}\n");
  EXPECT_TRUE(transport_->stream(0).cancelled());
  EXPECT_THAT(informer.lastError(), HasSubstr("watch stream"));
  transport_->advance(1500ms);
  ASSERT_EQ(transport_->streamCount(), 2u);
  EXPECT_THAT(watch().request().path, HasSubstr("resourceVersion=12"));
}

TEST_F(InformerTest, StopClosesTheWatchAndCancelsPendingRetries) {
  auto& informer = startWithList("10", {});
  informer.stop();
  transport_->runDue();
  EXPECT_TRUE(watch().cancelled());

  makeInformer();
  startWithList("10", {});
  watch().drop();
  informer_->stop();
  transport_->advance(60s);
  EXPECT_EQ(transport_->openStreams(), 0u);
  EXPECT_EQ(transport_->streamCount(), 2u);  // one per informer, none reopened
}

// ---------------------------------------------------------------------------- onSynced

TEST_F(InformerTest, OnSyncedFiresOnceAfterTheFirstListsAdds) {
  startWithList("10", {configMap("a", "1")});
  EXPECT_THAT(recorder_.take(), ElementsAre("add ns/a@1", "synced"));

  // Not again: not for events, not for a relist, not for a reconnect.
  watch().pushEvent("ADDED", configMap("b", "11"));
  watch().pushError(410);
  ASSERT_TRUE(transport_->respond(200, listOf("20", {configMap("a", "1")})));
  watch().drop();
  transport_->advance(10s);
  EXPECT_THAT(recorder_.take(), ElementsAre("add ns/b@11", "delete ns/b@11"));
}

TEST_F(InformerTest, HandlersAddedAfterSyncGetTheStoreThenOnSyncedLater) {
  auto& informer = startWithList("10", {configMap("a", "1"), configMap("b", "2")});
  Recorder late;
  informer.addHandlers(late.handlers());
  EXPECT_THAT(late.seen, IsEmpty());  // never inside addHandlers: its caller may hold locks
  transport_->runDue();
  EXPECT_THAT(late.take(), ElementsAre("add ns/a@1", "add ns/b@2", "synced"));

  watch().pushEvent("ADDED", configMap("c", "11"));
  EXPECT_THAT(late.take(), ElementsAre("add ns/c@11"));
}

TEST_F(InformerTest, EachSubscriptionGetsItsOwnOnSynced) {
  auto& informer = makeInformer();
  Recorder first, second;
  informer.addHandlers(first.handlers());
  informer.addHandlers(second.handlers());
  informer.start();
  transport_->runDue();
  ASSERT_TRUE(transport_->respond(200, listOf("10", {})));
  EXPECT_THAT(first.take(), ElementsAre("synced"));
  EXPECT_THAT(second.take(), ElementsAre("synced"));
}

TEST_F(InformerTest, RemovedHandlersAreNotToldOfTheSync) {
  auto& informer = makeInformer();
  const auto id = informer.addHandlers(recorder_.handlers());
  informer.start();
  transport_->runDue();
  informer.removeHandlers(id);
  ASSERT_TRUE(transport_->respond(200, listOf("10", {configMap("a", "1")})));
  EXPECT_THAT(recorder_.take(), IsEmpty());

  // Removed before their registration ran on the I/O thread: nothing either.
  const auto late = informer.addHandlers(recorder_.handlers());
  informer.removeHandlers(late);
  transport_->runDue();
  EXPECT_THAT(recorder_.take(), IsEmpty());
}

TEST_F(InformerTest, HandlersWithoutOnSyncedStillWork) {
  auto& informer = makeInformer();
  std::vector<std::string> added;
  Handlers handlers;
  handlers.onAdd = [&](const ObjectPtr& o) { added.push_back(o->key()); };
  informer.addHandlers(std::move(handlers));
  informer.addHandlers(Handlers{});
  informer.start();
  transport_->runDue();
  ASSERT_TRUE(transport_->respond(200, listOf("10", {configMap("a", "1")})));
  informer.addHandlers(Handlers{});
  transport_->runDue();
  EXPECT_THAT(added, ElementsAre("ns/a"));
  EXPECT_TRUE(informer.hasSynced());
}

// ---------------------------------------------------------------------------- field indexes

// configMap(name, rv) has data.v = rv: an index on /data/v finds objects by their version.
std::vector<std::string> byDataV(const Informer& informer, const std::string& value) {
  auto spec = IndexSpec::make(IndexSpec::From::kJsonPointer, "/data/v");
  std::vector<std::string> keys;
  auto found = informer.store().byIndex(*spec, value);
  if (!found) return {"no index"};
  for (const auto& o : *found) keys.push_back(o->key());
  return keys;
}

TEST_F(InformerGoneTest, AFieldIndexFollowsEventsAndTheRelistAfterGone) {
  auto registration =
      informer_->addIndex(*IndexSpec::make(IndexSpec::From::kJsonPointer, "/data/v"));
  EXPECT_THAT(byDataV(*informer_, "2"), ElementsAre("ns/b")) << "built from the listed objects";
  watch().pushEvent("MODIFIED", configMap("a", "2"));
  watch().pushEvent("ADDED", configMap("e", "2"));
  EXPECT_THAT(byDataV(*informer_, "2"), ElementsAre("ns/a", "ns/b", "ns/e"));
  EXPECT_THAT(byDataV(*informer_, "1"), IsEmpty());
  watch().pushEvent("DELETED", configMap("e", "2"));
  EXPECT_THAT(byDataV(*informer_, "2"), ElementsAre("ns/a", "ns/b"));

  watch().pushError(410);
  ASSERT_TRUE(transport_->respond(
      200, listOf("40", {configMap("a", "2"), configMap("b", "20"), configMap("d", "2")})));
  EXPECT_THAT(byDataV(*informer_, "2"), ElementsAre("ns/a", "ns/d"));
  EXPECT_THAT(byDataV(*informer_, "20"), ElementsAre("ns/b"));
  EXPECT_THAT(byDataV(*informer_, "3"), IsEmpty()) << "c is gone";
}

TEST_F(InformerGoneTest, AFieldIndexGoesWithItsLastRegistration) {
  const auto spec = *IndexSpec::make(IndexSpec::From::kJsonPointer, "/data/v");
  auto first = informer_->addIndex(spec);
  {
    auto second = informer_->addIndex(spec);
    EXPECT_TRUE(second.spec());
  }
  EXPECT_THAT(byDataV(*informer_, "1"), ElementsAre("ns/a"));
  IndexRegistration moved = std::move(first);
  EXPECT_FALSE(first.spec());
  EXPECT_THAT(byDataV(*informer_, "1"), ElementsAre("ns/a"));
  EXPECT_GT(informer_->store().indexBytes(), 0u);
  moved.reset();
  EXPECT_THAT(byDataV(*informer_, "1"), ElementsAre("no index"));
  EXPECT_EQ(informer_->store().indexBytes(), 0u);
  // A registration may outlive its informer.
  auto late = informer_->addIndex(spec);
  informer_->stop();
  informer_.reset();
  late.reset();
}

}  // namespace
}  // namespace wop::cache
