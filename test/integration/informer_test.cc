// Informers and shared informers against the real API server: sync, events, sharing one watch,
// pagination, surviving an API server restart, relisting after 410 Gone, metadata-only mode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "cache/shared_informers.h"
#include "kube/curl_transport.h"
#include "support/kube_test_env.h"

namespace wop::testing {
namespace {

using cache::Handlers;
using cache::Informer;
using cache::InformerKey;
using cache::ObjectPtr;

nlohmann::json configMap(const std::string& ns, const std::string& name, nlohmann::json data = {}) {
  nlohmann::json object = {{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata", {{"name", name}, {"namespace", ns}}}};
  if (!data.is_null()) object["data"] = std::move(data);
  return object;
}

// Records what handlers were told, thread-safely.
struct Recorder {
  std::mutex mutex;
  std::vector<std::string> log;  // "add ns/x", "update ns/x", "delete ns/x"

  Handlers handlers() {
    return {[this](const ObjectPtr& o) { record("add " + o->key()); },
            [this](const ObjectPtr&, const ObjectPtr& o) { record("update " + o->key()); },
            [this](const ObjectPtr& o) { record("delete " + o->key()); }};
  }
  void record(std::string line) {
    std::lock_guard lock(mutex);
    log.push_back(std::move(line));
  }
  bool saw(const std::string& line) {
    std::lock_guard lock(mutex);
    return std::find(log.begin(), log.end(), line) != log.end();
  }
  size_t count(const std::string& prefix) {
    std::lock_guard lock(mutex);
    return std::count_if(log.begin(), log.end(),
                         [&](const auto& l) { return l.starts_with(prefix); });
  }
};

std::set<std::string> namesOnServer(kube::Client& client, const std::string& ns) {
  std::set<std::string> names;
  auto list = parseJson(*client.list(kConfigMaps, ns, {}));
  for (const auto& item : list["items"]) names.insert(item["metadata"]["name"].get<std::string>());
  return names;
}

std::set<std::string> namesInStore(const Informer& informer) {
  std::set<std::string> names;
  for (const auto& object : informer.store().list()) names.insert(object->name);
  return names;
}

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    ASSERT_NE(client_, nullptr);
    ensureNamespace(*client_, ns_);
  }
  InformerKey key(const std::string& ns) { return InformerKey{kConfigMaps, ns, "", "", false}; }
  void put(const std::string& name, nlohmann::json data) {
    auto created = client_->create(kConfigMaps, ns_, configMap(ns_, name, data).dump());
    if (!created) {
      ASSERT_EQ(created.error().reason, kube::ApiReason::kAlreadyExists);
      auto patched = client_->patch(kConfigMaps, ns_, name, kube::PatchType::kJsonMerge,
                                    nlohmann::json({{"data", data}}).dump());
      ASSERT_TRUE(patched) << patched.error().toString();
    }
  }

  std::unique_ptr<kube::Client> client_;
  const std::string ns_ = "informer-test";
};

TEST_F(InformerTest, SyncsThenFollowsAddsUpdatesAndDeletes) {
  removeIfPresent(*client_, kConfigMaps, ns_, "followed");
  auto informer = Informer::create(*client_, key(ns_));
  Recorder recorder;
  informer->addHandlers(recorder.handlers());
  informer->start();
  ASSERT_TRUE(informer->waitForSync(std::chrono::seconds(30))) << informer->lastError();

  put("followed", {{"v", "1"}});
  ASSERT_TRUE(eventually([&] { return recorder.saw("add " + ns_ + "/followed"); }));
  put("followed", {{"v", "2"}});
  ASSERT_TRUE(eventually([&] { return recorder.saw("update " + ns_ + "/followed"); }));
  auto cached = informer->store().get(ns_ + "/followed");
  ASSERT_TRUE(eventually([&] {
    cached = informer->store().get(ns_ + "/followed");
    return cached && parseJson(cached->json)["data"]["v"] == "2";
  }));
  EXPECT_EQ(parseJson(cached->json)["kind"], "ConfigMap");

  ASSERT_TRUE(client_->remove(kConfigMaps, ns_, "followed"));
  ASSERT_TRUE(eventually([&] { return recorder.saw("delete " + ns_ + "/followed"); }));
  EXPECT_EQ(informer->store().get(ns_ + "/followed"), nullptr);
  EXPECT_EQ(informer->counters().lists, 1u);
  informer->stop();
}

TEST_F(InformerTest, TwoSubscribersOfOneSelectorShareOneWatch) {
  cache::SharedInformers shared(*client_);
  const auto watchesBefore = client_->counters().watchesStarted.load();
  Recorder first, second;
  put("shared", {{"v", "1"}});
  auto a = shared.subscribe(key(ns_), first.handlers());
  ASSERT_TRUE(a.informer()->waitForSync(std::chrono::seconds(30)));
  auto b = shared.subscribe(key(ns_), second.handlers());
  EXPECT_EQ(a.informer(), b.informer());
  EXPECT_EQ(shared.activeInformers(), 1u);

  // The late subscriber is told about what is already there.
  ASSERT_TRUE(eventually([&] { return second.saw("add " + ns_ + "/shared"); }));
  put("shared", {{"v", "2"}});
  ASSERT_TRUE(eventually([&] {
    return first.saw("update " + ns_ + "/shared") && second.saw("update " + ns_ + "/shared");
  }));
  EXPECT_EQ(a.informer()->counters().watches, 1u);
  EXPECT_EQ(client_->counters().watchesStarted - watchesBefore, 1u);

  // A different selector is a different watch.
  auto other = shared.subscribe(InformerKey{kConfigMaps, ns_, "app=other", "", false}, {});
  EXPECT_EQ(shared.activeInformers(), 2u);

  // The totals the status file reports: each informer's store once, however many subscribe
  // (the namespace also holds the controller-manager's kube-root-ca.crt).
  ASSERT_TRUE(other.informer()->waitForSync(std::chrono::seconds(30)));
  const auto totals = shared.cacheTotals();
  EXPECT_EQ(totals.objects, a.informer()->store().size() + other.informer()->store().size());
  EXPECT_GE(totals.objects, 1u);
  EXPECT_EQ(totals.objectBytes,
            a.informer()->store().objectBytes() + other.informer()->store().objectBytes());
  EXPECT_GT(totals.objectBytes, 0u);

  auto* transport = dynamic_cast<kube::CurlTransport*>(&client_->transport());
  ASSERT_NE(transport, nullptr);
  ASSERT_TRUE(eventually([&] { return transport->counters().streamsActive == 2; }));
  a.reset();
  EXPECT_EQ(shared.activeInformers(), 2u);  // b still subscribes
  b.reset();
  other.reset();
  EXPECT_EQ(shared.activeInformers(), 0u);
  EXPECT_TRUE(eventually([&] { return transport->counters().streamsActive == 0; }))
      << "watches still open after the last subscriber left";
}

// Established TCP connections of this process to the API server's port.
int connectionsToApiServer(const std::string& server) {
  const int port = std::stoi(server.substr(server.rfind(':') + 1));
  std::set<std::string> ourSockets;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    auto target = std::filesystem::read_symlink(entry.path(), error).string();
    if (!error && target.starts_with("socket:["))
      ourSockets.insert(target.substr(8, target.size() - 9));
  }
  int count = 0;
  for (const char* table : {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      const int remotePort = std::stoi(remote.substr(remote.find(':') + 1), nullptr, 16);
      if (state == "01" && remotePort == port && ourSockets.contains(inode)) ++count;
    }
  }
  return count;
}

TEST_F(InformerTest, ManyWatchesShareOneHttp2Connection) {
  cache::SharedInformers shared(*client_);
  std::vector<cache::Subscription> subscriptions;
  for (int i = 0; i < 20; ++i) {
    subscriptions.push_back(shared.subscribe(
        InformerKey{kConfigMaps, ns_, "shard=s" + std::to_string(i), "", false}, {}));
  }
  for (auto& s : subscriptions) ASSERT_TRUE(s.informer()->waitForSync(std::chrono::seconds(30)));
  auto* transport = dynamic_cast<kube::CurlTransport*>(&client_->transport());
  ASSERT_TRUE(eventually([&] { return transport->counters().streamsActive == 20; }));
  const int connections = connectionsToApiServer(client_->config().server);
  EXPECT_GE(connections, 1);
  EXPECT_LE(connections, 2) << "20 watches should multiplex over HTTP/2";
}

// Issue 17: once subscribers ask for one resource in clusterWideAfter namespaces and the host may
// list and watch it cluster-wide, later subscriptions share one cluster-wide watch, each scoped
// to its namespace: it hears of, and reads, only its own namespace's objects.
class ClusterWideWatchTest : public InformerTest {
 protected:
  InformerKey labelled(const std::string& ns) {
    return InformerKey{kConfigMaps, ns, "app=wide", "", false};
  }
  void putLabelled(const std::string& ns, const std::string& name) {
    auto object = configMap(ns, name, {{"v", "1"}});
    object["metadata"]["labels"] = {{"app", "wide"}};
    auto created = client_->create(kConfigMaps, ns, object.dump());
    ASSERT_TRUE(created || created.error().reason == kube::ApiReason::kAlreadyExists);
  }
  const std::vector<std::string> spaces_ = {"wide-a", "wide-b", "wide-c", "wide-d"};
  void SetUp() override {
    InformerTest::SetUp();
    for (const auto& ns : spaces_) {
      ensureNamespace(*client_, ns);
      removeIfPresent(*client_, kConfigMaps, ns, "mine");
    }
  }
};

TEST_F(ClusterWideWatchTest, LaterNamespacesShareOneWatchAndEachSeesOnlyItsOwn) {
  cache::SharedInformers shared(*client_, cache::SharedInformerOptions{{}, 2});
  const InformerKey wide = labelled("");
  Recorder a, b, c;
  auto inA = shared.subscribe(labelled("wide-a"), a.handlers());
  EXPECT_EQ(shared.clusterWideState(wide), "unknown");
  auto inB = shared.subscribe(labelled("wide-b"), b.handlers());
  EXPECT_EQ(inA.scope(), "");
  EXPECT_EQ(inB.scope(), "");  // asked before the check's answer: its own watch
  ASSERT_TRUE(eventually([&] { return shared.clusterWideState(wide) == "allowed"; }))
      << shared.clusterWideState(wide);

  auto inC = shared.subscribe(labelled("wide-c"), c.handlers());
  EXPECT_EQ(inC.scope(), "wide-c");
  EXPECT_EQ(inC.informer(), shared.find(wide));
  EXPECT_EQ(shared.activeInformers(), 3u);
  EXPECT_EQ(shared.clusterWideResources(), 1u);
  ASSERT_TRUE(inC.informer()->waitForSync(std::chrono::seconds(30)));

  putLabelled("wide-c", "mine");
  putLabelled("wide-d", "mine");  // a namespace no one subscribed to
  ASSERT_TRUE(eventually([&] { return c.saw("add wide-c/mine"); }));
  ASSERT_TRUE(eventually([&] { return inC.informer()->store().get("wide-d/mine") != nullptr; }))
      << "the cluster-wide store holds every namespace";
  EXPECT_EQ(c.count("add wide-d/"), 0u);
  EXPECT_EQ(inC.get("wide-d/mine"), nullptr);
  EXPECT_NE(inC.get("wide-c/mine"), nullptr);
  EXPECT_TRUE(inC.list("wide-d").empty());
  for (const auto& object : inC.list()) EXPECT_EQ(object->ns, "wide-c");
  EXPECT_EQ(inC.list().size(), 1u);
  EXPECT_EQ(a.count("add wide-c/"), 0u);  // the namespaced watches hear of their own only
  EXPECT_EQ(b.count("add wide-c/"), 0u);

  // A late subscriber of a synced cluster-wide informer is replayed its own namespace only.
  Recorder d;
  auto inD = shared.subscribe(labelled("wide-d"), d.handlers());
  ASSERT_TRUE(eventually([&] { return d.saw("add wide-d/mine"); }));
  EXPECT_EQ(d.count("add wide-c/"), 0u);

  // Updates and deletes reach only their namespace's subscriber.
  ASSERT_TRUE(client_->remove(kConfigMaps, "wide-c", "mine"));
  ASSERT_TRUE(eventually([&] { return c.saw("delete wide-c/mine"); }));
  EXPECT_EQ(d.count("delete"), 0u);
  inC.reset();
  inD.reset();
  EXPECT_EQ(shared.find(wide), nullptr)
      << "the cluster-wide informer goes with its last subscriber";
  removeIfPresent(*client_, kConfigMaps, "wide-d", "mine");
}

// Operators load in parallel: a subscription that comes while the access check is in flight
// waits for its answer instead of opening one more namespaced watch.
TEST_F(ClusterWideWatchTest, ASubscriptionWhileTheCheckIsInFlightWaitsForItsAnswer) {
  cache::SharedInformers shared(*client_, cache::SharedInformerOptions{{}, 1});
  auto inA = shared.subscribe(labelled("wide-a"), {});  // starts the check
  EXPECT_EQ(inA.scope(), "");
  auto inB = shared.subscribe(labelled("wide-b"), {});
  EXPECT_EQ(shared.clusterWideState(labelled("")), "allowed");
  EXPECT_EQ(inB.scope(), "wide-b");
  EXPECT_EQ(shared.activeInformers(), 2u);
}

TEST_F(ClusterWideWatchTest, WithoutClusterWideAccessEachNamespaceKeepsItsOwnWatch) {
  cache::InformerOptions identity;
  identity.requestOptions.impersonateUser = "system:serviceaccount:wide-a:no-cluster-rights";
  cache::SharedInformers shared(*client_, cache::SharedInformerOptions{identity, 1});
  auto inA = shared.subscribe(labelled("wide-a"), {});
  ASSERT_TRUE(eventually([&] { return shared.clusterWideState(labelled("")) == "denied"; }))
      << shared.clusterWideState(labelled(""));
  auto inB = shared.subscribe(labelled("wide-b"), {});
  EXPECT_EQ(inB.scope(), "");
  EXPECT_EQ(inB.informer()->key().ns, "wide-b");
  EXPECT_EQ(shared.activeInformers(), 2u);
  EXPECT_EQ(shared.clusterWideResources(), 0u);
}

TEST_F(InformerTest, ListsInPages) {
  const std::string ns = "informer-test-pages";
  ensureNamespace(*client_, ns);
  for (int i = 0; i < 1001; ++i) {
    auto created = client_->create(kConfigMaps, ns,
                                   configMap(ns, "p-" + std::to_string(i), {{"i", "x"}}).dump());
    if (!created) ASSERT_EQ(created.error().reason, kube::ApiReason::kAlreadyExists);
  }
  auto informer = Informer::create(*client_, key(ns), {.pageSize = 250});
  informer->start();
  ASSERT_TRUE(informer->waitForSync(std::chrono::seconds(60))) << informer->lastError();
  EXPECT_EQ(namesInStore(*informer), namesOnServer(*client_, ns));
  EXPECT_GE(informer->store().size(), 1001u);
  EXPECT_GE(informer->counters().listPages, 5u);
  informer->stop();
}

TEST_F(InformerTest, MetadataOnlyAndTransformKeepLessInMemory) {
  put("big", {{"payload", std::string(4096, 'x')}});
  auto metadataOnly = Informer::create(*client_, InformerKey{kConfigMaps, ns_, "", "", true});
  auto transformed = Informer::create(*client_, key(ns_), {.transform = [](std::string json) {
    auto object = nlohmann::json::parse(json);
    object.erase("data");
    return object.dump();
  }});
  auto full = Informer::create(*client_, key(ns_));
  for (auto* i : {&metadataOnly, &transformed, &full}) (*i)->start();
  for (auto* i : {&metadataOnly, &transformed, &full})
    ASSERT_TRUE((*i)->waitForSync(std::chrono::seconds(30)));

  auto meta = parseJson(metadataOnly->store().get(ns_ + "/big")->json);
  EXPECT_EQ(meta["kind"], "PartialObjectMetadata");
  EXPECT_FALSE(meta.contains("data"));
  EXPECT_EQ(meta["metadata"]["name"], "big");
  EXPECT_FALSE(meta["metadata"].contains("managedFields"));
  EXPECT_FALSE(parseJson(transformed->store().get(ns_ + "/big")->json).contains("data"));
  EXPECT_LT(metadataOnly->store().objectBytes(), full->store().objectBytes());
  EXPECT_LT(transformed->store().objectBytes(), full->store().objectBytes());
}

TEST_F(InformerTest, IndexesByOwnerAndSeesGarbageCollection) {
  removeIfPresent(*client_, kConfigMaps, ns_, "parent");
  removeIfPresent(*client_, kConfigMaps, ns_, "child");
  auto parent = parseJson(*client_->create(kConfigMaps, ns_, configMap(ns_, "parent").dump()));
  auto child = configMap(ns_, "child");
  child["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                           {"kind", "ConfigMap"},
                                           {"name", "parent"},
                                           {"uid", parent["metadata"]["uid"]}}};
  ASSERT_TRUE(client_->create(kConfigMaps, ns_, child.dump()));

  auto informer = Informer::create(*client_, key(ns_));
  Recorder recorder;
  informer->addHandlers(recorder.handlers());
  informer->start();
  ASSERT_TRUE(informer->waitForSync(std::chrono::seconds(30)));
  const std::string parentUid = parent["metadata"]["uid"];
  ASSERT_EQ(informer->store().byOwner(parentUid).size(), 1u);
  EXPECT_EQ(informer->store().byOwner(parentUid)[0]->name, "child");

  // kube-controller-manager's garbage collector removes the child once the parent is gone.
  ASSERT_TRUE(client_->remove(kConfigMaps, ns_, "parent", {.propagationPolicy = "Background"}));
  ASSERT_TRUE(eventually([&] { return recorder.saw("delete " + ns_ + "/child"); },
                         std::chrono::seconds(60)));
  EXPECT_TRUE(informer->store().byOwner(parentUid).empty());
}

// Restarts and compaction touch the whole control plane; they run last (see CMake: RUN_SERIAL).
TEST_F(InformerTest, SurvivesAnApiServerRestart) {
  removeIfPresent(*client_, kConfigMaps, ns_, "before-restart");
  removeIfPresent(*client_, kConfigMaps, ns_, "after-restart");
  put("before-restart", {{"v", "1"}});
  auto informer = Informer::create(
      *client_, key(ns_),
      {.backoffBase = std::chrono::milliseconds(100), .backoffMax = std::chrono::seconds(2)});
  Recorder recorder;
  informer->addHandlers(recorder.handlers());
  informer->start();
  ASSERT_TRUE(informer->waitForSync(std::chrono::seconds(30)));
  ASSERT_NE(informer->store().get(ns_ + "/before-restart"), nullptr);

  ASSERT_EQ(controlPlane("restart-apiserver"), 0);
  put("after-restart", {{"v", "1"}});
  ASSERT_TRUE(client_->remove(kConfigMaps, ns_, "before-restart"));

  ASSERT_TRUE(eventually([&] { return recorder.saw("add " + ns_ + "/after-restart"); }))
      << informer->lastError();
  ASSERT_TRUE(eventually([&] { return recorder.saw("delete " + ns_ + "/before-restart"); }));
  EXPECT_EQ(namesInStore(*informer), namesOnServer(*client_, ns_));
  EXPECT_GE(informer->counters().watches, 2u);
  informer->stop();
}

TEST_F(InformerTest, RelistsAfterGoneAndConverges) {
  auto informer = Informer::create(
      *client_, key(ns_),
      {.backoffBase = std::chrono::milliseconds(100), .backoffMax = std::chrono::seconds(2)});
  Recorder recorder;
  informer->addHandlers(recorder.handlers());
  informer->start();
  ASSERT_TRUE(informer->waitForSync(std::chrono::seconds(30)));

  // Move etcd's revision past the informer's resourceVersion with writes it does not watch,
  // compact everything before it, and restart the API server: the informer's reconnect asks
  // for a compacted resourceVersion and must get 410 Gone, then relist.
  const std::string elsewhere = "informer-test-elsewhere";
  ensureNamespace(*client_, elsewhere);
  for (int i = 0; i < 20; ++i) {
    removeIfPresent(*client_, kConfigMaps, elsewhere, "churn-" + std::to_string(i));
    ASSERT_TRUE(client_->create(kConfigMaps, elsewhere,
                                configMap(elsewhere, "churn-" + std::to_string(i)).dump()));
  }
  ASSERT_EQ(controlPlane("compact"), 0);
  ASSERT_EQ(controlPlane("restart-apiserver"), 0);
  put("after-gone", {{"v", "1"}});

  ASSERT_TRUE(eventually([&] { return informer->counters().gone >= 1; }, std::chrono::seconds(60)))
      << "no 410 seen; last error: " << informer->lastError();
  ASSERT_TRUE(eventually([&] { return namesInStore(*informer) == namesOnServer(*client_, ns_); }));
  EXPECT_GE(informer->counters().lists, 2u);
  EXPECT_TRUE(eventually([&] { return recorder.saw("add " + ns_ + "/after-gone"); }));
  informer->stop();
}

}  // namespace
}  // namespace wop::testing
