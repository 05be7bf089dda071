// The operator runtime against the real control plane: the example operators reconciling,
// identities enforced by RBAC, and hostile guests failing alone while a good operator keeps
// working beside them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <wasmtime.hh>

#include "runtime/operator_host.h"
#include "support/host_test_support.h"
#include "support/kube_test_env.h"

namespace wop::testing {
namespace {

using runtime::OperatorSpec;
using ::testing::HasSubstr;

const kube::ResourceInfo kTestResources{
    {"bench.wasm-operator.dev", "v1", "testresources"}, "TestResource", true};

std::string wasm(const std::string& name) {
  return std::string(WOP_WASM_DIR) + "/" + name + ".wasm";
}

nlohmann::json testResource(const std::string& ns, const std::string& name, int64_t nonce) {
  return {{"apiVersion", "bench.wasm-operator.dev/v1"},
          {"kind", "TestResource"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"nonce", nonce}}}};
}

int64_t nonceIn(kube::Client& client, const std::string& ns, const std::string& name) {
  auto object = client.get(kTestResources, ns, name);
  if (!object) return -1;
  return parseJson(*object)["spec"].value("nonce", int64_t{-1});
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    ASSERT_NE(client_, nullptr);
    applyManifests(*client_, std::string(WOP_SOURCE_DIR) + "/deploy/crds/testresources.yaml");
    applyManifests(*client_, std::string(WOP_SOURCE_DIR) + "/deploy/rbac/example-operators.yaml");
    artifacts_ =
        std::filesystem::temp_directory_path() / ("wop-artifacts-" + std::to_string(::getpid()));
    std::filesystem::create_directories(artifacts_);
    host_ = std::make_unique<runtime::OperatorHost>(
        *client_,
        runtime::HostOptions{.workers = 2,
                             .artifactDirectory = artifacts_.string(),
                             .restartBackoffBase = std::chrono::milliseconds(200),
                             .restartBackoffMax = std::chrono::seconds(2),
                             .observer = figures_},
        logs_.sink());
  }
  void TearDown() override {
    host_.reset();
    std::filesystem::remove_all(artifacts_);
  }

  // A ring of n operators over namespaces <prefix>-0 .. <prefix>-(n-1).
  void startRing(const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) ensureNamespace(*client_, prefix + "-" + std::to_string(i));
    for (int i = 0; i < n; ++i) {
      nlohmann::json config = {{"inputNamespace", prefix + "-" + std::to_string(i)},
                               {"outputNamespace", prefix + "-" + std::to_string((i + 1) % n)}};
      OperatorSpec spec{.name = prefix + "-op-" + std::to_string(i),
                        .modulePath = wasm("ring"),
                        .serviceAccountNamespace = "wasm-operators-ring",
                        .serviceAccountName = "ring-" + std::to_string(i),
                        .configJson = config.dump()};
      auto added = host_->add(spec);
      ASSERT_TRUE(added.isOk()) << added.toString();
    }
  }

  void setNonce(const std::string& ns, const std::string& name, int64_t nonce) {
    auto patched = client_->patch(kTestResources, ns, name, kube::PatchType::kJsonMerge,
                                  nlohmann::json({{"spec", {{"nonce", nonce}}}}).dump());
    if (!patched && patched.error().reason == kube::ApiReason::kNotFound) {
      auto created = client_->create(kTestResources, ns, testResource(ns, name, nonce).dump());
      ASSERT_TRUE(created) << created.error().toString();
      return;
    }
    ASSERT_TRUE(patched) << patched.error().toString();
  }

  std::unique_ptr<kube::Client> client_;
  std::filesystem::path artifacts_;
  LogCapture logs_;
  std::shared_ptr<runtime::FigureRecorder> figures_ = std::make_shared<runtime::FigureRecorder>();
  std::unique_ptr<runtime::OperatorHost> host_;
};

TEST_F(RuntimeTest, RingOperatorsCarryTheNonceAroundTheRing) {
  startRing("rt-ring", 3);
  setNonce("rt-ring-0", "token", 1);
  ASSERT_TRUE(eventually([&] { return nonceIn(*client_, "rt-ring-2", "token") == 1; }));
  setNonce("rt-ring-0", "token", 5);
  ASSERT_TRUE(eventually([&] {
    return nonceIn(*client_, "rt-ring-1", "token") == 5 &&
           nonceIn(*client_, "rt-ring-2", "token") == 5;
  }));
  for (int i = 0; i < 3; ++i) {
    auto stats = statsOf(*host_, "rt-ring-op-" + std::to_string(i));
    EXPECT_EQ(stats.state, runtime::OperatorState::kRunning);
    EXPECT_GE(stats.reconciles, 1u);
    EXPECT_EQ(stats.restarts, 0u);
  }
  EXPECT_FALSE(figures_->takeLatencySamples().empty());
}

TEST_F(RuntimeTest, ReplicatorCopiesKeepsInSyncAndCleansUp) {
  for (const char* ns : {"rt-repl-src", "rt-repl-a", "rt-repl-b"}) ensureNamespace(*client_, ns);
  ASSERT_TRUE(host_
                  ->add({.name = "replicator",
                         .modulePath = wasm("replicator"),
                         .serviceAccountNamespace = "wasm-operators",
                         .serviceAccountName = "replicator"})
                  .isOk());
  removeIfPresent(*client_, kConfigMaps, "rt-repl-src", "settings");
  nlohmann::json source = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", "settings"},
        {"namespace", "rt-repl-src"},
        {"labels", {{"replicator.wasm-operator.dev/replicate", "true"}}},
        {"annotations", {{"replicator.wasm-operator.dev/to", "rt-repl-a,rt-repl-b"}}}}},
      {"data", {{"mode", "fast"}}}};
  ASSERT_TRUE(client_->create(kConfigMaps, "rt-repl-src", source.dump()));
  auto dataIn = [&](const std::string& ns) -> std::string {
    auto copy = client_->get(kConfigMaps, ns, "settings");
    return copy ? parseJson(*copy)["data"].value("mode", "") : "";
  };
  ASSERT_TRUE(
      eventually([&] { return dataIn("rt-repl-a") == "fast" && dataIn("rt-repl-b") == "fast"; }));

  ASSERT_TRUE(client_->patch(kConfigMaps, "rt-repl-src", "settings", kube::PatchType::kJsonMerge,
                             R"({"data":{"mode":"safe"}})"));
  ASSERT_TRUE(
      eventually([&] { return dataIn("rt-repl-a") == "safe" && dataIn("rt-repl-b") == "safe"; }));

  ASSERT_TRUE(client_->remove(kConfigMaps, "rt-repl-src", "settings"));
  ASSERT_TRUE(eventually([&] {
    auto a = client_->get(kConfigMaps, "rt-repl-a", "settings");
    auto b = client_->get(kConfigMaps, "rt-repl-b", "settings");
    auto src = client_->get(kConfigMaps, "rt-repl-src", "settings");
    return !a && !b && !src;  // copies gone, then the finalizer released the source
  }));
  EXPECT_EQ(statsOf(*host_, "replicator").restarts, 0u);
}

TEST_F(RuntimeTest, AnOperatorThatMayNotWatchSecretsIsRefusedAtLoad) {
  auto added = host_->add({.name = "replicator-without-secrets",
                           .modulePath = wasm("replicator"),
                           .serviceAccountNamespace = "wasm-operators",
                           .serviceAccountName = "configmaps-only"});
  ASSERT_FALSE(added.isOk());
  EXPECT_THAT(added.message(), HasSubstr("may not list secrets"));
  EXPECT_THAT(added.message(), HasSubstr("wasm-operators/configmaps-only"));
}

TEST_F(RuntimeTest, AddAllLoadsAtOnceAndReportsEachSpecInOrder) {
  const int n = 4;
  for (int i = 0; i < n; ++i) ensureNamespace(*client_, "rt-all-" + std::to_string(i));
  std::vector<OperatorSpec> specs;
  for (int i = 0; i < n; ++i) {
    nlohmann::json config = {{"inputNamespace", "rt-all-" + std::to_string(i)},
                             {"outputNamespace", "rt-all-" + std::to_string((i + 1) % n)}};
    specs.push_back({.name = "rt-all-op-" + std::to_string(i),
                     .modulePath = wasm("ring"),
                     .serviceAccountNamespace = "wasm-operators-ring",
                     .serviceAccountName = "ring-" + std::to_string(i),
                     .configJson = config.dump()});
  }
  // A refusal among them, answered at its own place.
  specs.insert(specs.begin() + 2, {.name = "rt-all-no-secrets",
                                   .modulePath = wasm("replicator"),
                                   .serviceAccountNamespace = "wasm-operators",
                                   .serviceAccountName = "configmaps-only"});

  auto statuses = host_->addAll(specs, 3);

  ASSERT_EQ(statuses.size(), specs.size());
  for (size_t i : {0u, 1u, 3u, 4u}) EXPECT_TRUE(statuses[i].isOk()) << statuses[i].toString();
  EXPECT_THAT(statuses[2].message(), HasSubstr("may not list secrets"));
  setNonce("rt-all-0", "token", 7);
  ASSERT_TRUE(eventually([&] { return nonceIn(*client_, "rt-all-3", "token") == 7; }));
}

TEST_F(RuntimeTest, AnOperatorCannotReadOrWriteSecretsWithoutRights) {
  ensureNamespace(*client_, "rt-identity");
  const std::string dir = artifacts_.string();
  ASSERT_TRUE(host_
                  ->add({.name = "secret-writer",
                         .modulePath = watModule("test/guests/identity/secret_writer.wat", dir),
                         .serviceAccountNamespace = "wasm-operators",
                         .serviceAccountName = "configmaps-only"})
                  .isOk());
  nlohmann::json trigger = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", "go"}, {"namespace", "rt-identity"}, {"labels", {{"secret-writer", "yes"}}}}}};
  removeIfPresent(*client_, kConfigMaps, "rt-identity", "go");
  ASSERT_TRUE(client_->create(kConfigMaps, "rt-identity", trigger.dump()));
  ASSERT_TRUE(eventually([&] { return logs_.contains("secret write forbidden"); }));
  EXPECT_TRUE(logs_.contains("secret cache read forbidden"));
  EXPECT_FALSE(logs_.contains("secret write allowed"));
  EXPECT_FALSE(client_->get(kSecrets, "rt-identity", "stolen"));
}

TEST_F(RuntimeTest, ModulesThatAreNotOperatorsAreRefusedWithTheReason) {
  const std::string dir = artifacts_.string();
  auto wrongAbi = host_->add({.name = "wrong-abi",
                              .modulePath = watModule("test/guests/hostile/wrong_abi.wat", dir),
                              .trusted = true});
  ASSERT_FALSE(wrongAbi.isOk());
  EXPECT_THAT(wrongAbi.message(), HasSubstr("declares ABI version 99"));

  const std::string text = dir + "/not-wasm.wasm";
  std::ofstream(text) << "#!/bin/sh\n";
  auto notWasm = host_->add({.name = "not-wasm", .modulePath = text, .trusted = true});
  ASSERT_FALSE(notWasm.isOk());
  EXPECT_THAT(notWasm.message(), HasSubstr("not a WebAssembly module"));

  auto json =
      host_->add({.name = "json-roundtrip", .modulePath = wasm("json_roundtrip"), .trusted = true});
  ASSERT_FALSE(json.isOk());
  EXPECT_THAT(json.message(), HasSubstr("exports no ABI marker wop_abi_version_1"));
}

TEST_F(RuntimeTest, ResyncQueuesKeysAgainWithoutAnyChange) {
  ensureNamespace(*client_, "rt-resync");
  nlohmann::json object = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", "steady"}, {"namespace", "rt-resync"}, {"labels", {{"resync", "yes"}}}}}};
  removeIfPresent(*client_, kConfigMaps, "rt-resync", "steady");
  ASSERT_TRUE(client_->create(kConfigMaps, "rt-resync", object.dump()));
  ASSERT_TRUE(host_
                  ->add({.name = "resync",
                         .modulePath = std::string(WOP_SOURCE_DIR) + "/test/guests/resync.wat",
                         .trusted = true})
                  .isOk());
  // One reconcile for the add, then one per period (1 s +-10%) with nothing changing.
  EXPECT_TRUE(eventually([&] { return statsOf(*host_, "resync").reconciles >= 4; },
                         std::chrono::seconds(10)))
      << statsOf(*host_, "resync").reconciles << " reconciles";
}

// A guest's names and durations are checked before any request is built from them: a path
// that climbs out of its apiVersion, "." and ".." (which libcurl would resolve), a body nested
// deep enough to overflow a worker's stack, a negative or huge requeue delay. The host keeps
// running, the guest gets WOP_ERR_INVALID_ARGUMENT (-1), and a group/version the server does
// not serve is answered later (discovery does not hold the worker) with a 404.
TEST_F(RuntimeTest, MalformedNamesAndDurationsFromAGuestAreRefused) {
  ensureNamespace(*client_, "rt-badreq");
  nlohmann::json poke = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", "poke"}, {"namespace", "rt-badreq"}, {"labels", {{"bad-requests", "yes"}}}}}};
  removeIfPresent(*client_, kConfigMaps, "rt-badreq", "poke");
  ASSERT_TRUE(client_->create(kConfigMaps, "rt-badreq", poke.dump()));
  auto added = host_->add(
      {.name = "bad-requests",
       .modulePath = watModule("test/guests/hostile/bad_requests.wat", artifacts_.string()),
       .trusted = true});
  ASSERT_TRUE(added.isOk()) << added.toString();

  ASSERT_TRUE(eventually([&] { return logs_.contains("huge requeue: 0"); }))
      << statsOf(*host_, "bad-requests").lastError;
  for (const char* refused :
       {"traversal: -1", "query in version: -1", "dot-dot name: -1", "dot namespace: -1",
        "dot-dot namespace: -1", "deep body: -1", "negative requeue: -1"}) {
    EXPECT_TRUE(logs_.contains(refused)) << refused;
  }
  EXPECT_FALSE(logs_.contains("unserved group: -")) << "discovery answered synchronously";
  EXPECT_TRUE(eventually([&] { return logs_.contains("complete: 404"); }));
  // The namespace a DELETE of ConfigMap ".." would have hit is still there.
  EXPECT_TRUE(client_->get({{"", "v1", "namespaces"}, "Namespace", false}, "", "rt-badreq"));
  // Reconcile 1 ended with -1 ms (retried with backoff), reconcile 2 with 9.3e12 ms: no more.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto stats = statsOf(*host_, "bad-requests");
  EXPECT_LE(stats.reconciles, 3u) << "a requeue delay turned into a busy loop";
  EXPECT_EQ(stats.restarts, 0u) << stats.lastError;
}

// A guest that starts call after call with a 4 MB body, never waiting, cannot make the host hold
// more than its budget (kMaxHeldBytesPerOperator, 64 MiB): with the API rate held at one call
// per 10 s (the informer's first list takes the first), the bodies wait in the host, and the calls
// past the budget get WOP_ERR_LIMIT (-5). (At 1/s, on a loaded machine where the guest's 20 calls
// took 6 s, enough bodies were answered meanwhile that only one call was refused.)
TEST_F(RuntimeTest, AGuestCannotMakeTheHostHoldMoreThanItsBudgetOfBytes) {
  ensureNamespace(*client_, "rt-held");
  removeIfPresent(*client_, kConfigMaps, "rt-held", "poke");
  nlohmann::json poke = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", "poke"}, {"namespace", "rt-held"}, {"labels", {{"held-bytes", "y"}}}}}};
  ASSERT_TRUE(client_->create(kConfigMaps, "rt-held", poke.dump()));
  auto slowClient = adminClient({.qps = 0.1, .burst = 1, .maxRetries = 0});
  ASSERT_NE(slowClient, nullptr);
  LogCapture logs;
  runtime::OperatorHost host(
      *slowClient, runtime::HostOptions{.workers = 2, .artifactDirectory = artifacts_.string()},
      logs.sink());
  auto added =
      host.add({.name = "held-bytes",
                .modulePath = watModule("test/guests/hostile/held_bytes.wat", artifacts_.string()),
                .trusted = true,
                .entryTimeout = std::chrono::seconds(10)});
  ASSERT_TRUE(added.isOk()) << added.toString();
  auto count = [&](const std::string& prefix) {
    std::lock_guard lock(logs.mutex);
    return std::count_if(logs.lines.begin(), logs.lines.end(), [&](const std::string& line) {
      return line.find("held-bytes: " + prefix) == 0;
    });
  };
  ASSERT_TRUE(eventually([&] { return count("call: ") >= 20; }, std::chrono::seconds(60)))
      << statsOf(host, "held-bytes").lastError;
  // 16 bodies of 4,000,136 bytes fit in 64 MiB, a 17th does not (one or two may have been
  // answered, and released, meanwhile).
  EXPECT_GE(count("call: -5"), 2);
  EXPECT_GE(count("call: ") - count("call: -"), 16);
  EXPECT_EQ(statsOf(host, "held-bytes").restarts, 0u) << statsOf(host, "held-bytes").lastError;
}

// ---- watches and cache reads (test/guests/watcher)

nlohmann::json configMap(const std::string& ns, const std::string& name, const char* label,
                         const std::string& labelValue, nlohmann::json data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{label, labelValue}}}}},
          {"data", std::move(data)}};
}

constexpr const char* kWatcherPrimary = "watcher.wasm-operator.dev/primary";
constexpr const char* kWatcherCached = "watcher.wasm-operator.dev/cached";
constexpr const char* kWatcherPointsTo = "watcher.wasm-operator.dev/points-to";

// Creates (or replaces) a ConfigMap of the test.
void putConfigMap(kube::Client& client, const nlohmann::json& object) {
  const std::string ns = object["metadata"]["namespace"];
  const std::string name = object["metadata"]["name"];
  removeIfPresent(client, kConfigMaps, ns, name);
  auto created = client.create(kConfigMaps, ns, object.dump());
  ASSERT_TRUE(created) << created.error().toString();
}

// The watcher's annotation <what>-<id> on a ConfigMap, "" if none (or unreadable).
std::string watcherAnnotation(kube::Client& client, const std::string& ns, const std::string& name,
                              const std::string& what) {
  auto object = client.get(kConfigMaps, ns, name);
  if (!object) return "";
  auto annotations = parseJson(*object)["metadata"]["annotations"];
  return annotations.is_object() ? annotations.value("watcher.wasm-operator.dev/" + what, "") : "";
}

OperatorSpec watcherSpec(const std::string& name, nlohmann::json config) {
  return {.name = name,
          .modulePath = wasm("watcher"),
          .serviceAccountNamespace = "wasm-operators",
          .serviceAccountName = "configmaps-only",
          .configJson = config.dump()};
}

// The watcher declares For, then an owned kind, then a cache-only watch, then a watch mapped by
// a function: the host must call wop_map with the position in "watches" (1), not in the list
// of everything watched (3), or the mapper is never found and the pointer wakes nobody.
TEST_F(RuntimeTest, AFunctionMappedWatchAfterOwnedKindsMapsAndACacheOnlyWatchWakesNobody) {
  const std::string ns = "rt-watches";
  ensureNamespace(*client_, ns);
  putConfigMap(*client_, configMap(ns, "settings", kWatcherCached, "yes", {{"value", "one"}}));
  putConfigMap(*client_, configMap(ns, "p", kWatcherPrimary, "yes", {{"cached", "settings"}}));
  removeIfPresent(*client_, kConfigMaps, ns, "pointer");
  auto added = host_->add(watcherSpec("watcher-map", {{"namespace", ns}, {"id", "m"}}));
  ASSERT_TRUE(added.isOk()) << added.toString();
  ASSERT_TRUE(eventually([&] { return watcherAnnotation(*client_, ns, "p", "cached-m") == "one"; }))
      << "the cache-only watch is readable";

  // A change of the cache-only kind wakes nobody... (The annotation is visible before the
  // reconcile that wrote it has ended and been counted: wait for that first.)
  ASSERT_TRUE(eventually([&] { return statsOf(*host_, "watcher-map").reconciles >= 1; }));
  const auto reconciles = statsOf(*host_, "watcher-map").reconciles;
  ASSERT_TRUE(client_->patch(kConfigMaps, ns, "settings", kube::PatchType::kJsonMerge,
                             R"({"data":{"value":"two"}})"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(statsOf(*host_, "watcher-map").reconciles, reconciles);
  EXPECT_EQ(watcherAnnotation(*client_, ns, "p", "cached-m"), "one");

  // ... but the cache has it: a pointer mapped to p wakes p, which reads the new value.
  ASSERT_TRUE(
      client_->create(kConfigMaps, ns, configMap(ns, "pointer", kWatcherPointsTo, "p", {}).dump()));
  EXPECT_TRUE(eventually([&] { return watcherAnnotation(*client_, ns, "p", "cached-m") == "two"; }))
      << "the function-mapped watch never woke p";
  EXPECT_FALSE(logs_.contains("which has no mapper"));
  EXPECT_EQ(statsOf(*host_, "watcher-map").restarts, 0u);
}

// The watcher's ServiceAccount may not read Secrets, so it cannot declare them and its cache
// read of one is refused (WOP_ERR_FORBIDDEN). The Secret exists: taking the refusal for
// "absent" would be a lie; the reconcile must fail and be retried.
TEST_F(RuntimeTest, AForbiddenCacheReadFailsTheReconcileInsteadOfReadingAsAbsent) {
  const std::string ns = "rt-forbidden-read";
  ensureNamespace(*client_, ns);
  removeIfPresent(*client_, kSecrets, ns, "token");
  nlohmann::json secret = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata", {{"name", "token"}, {"namespace", ns}}},
                           {"stringData", {{"k", "v"}}}};
  ASSERT_TRUE(client_->create(kSecrets, ns, secret.dump()));
  putConfigMap(*client_, configMap(ns, "p", kWatcherPrimary, "yes", {{"secret", "token"}}));
  auto added = host_->add(watcherSpec("watcher-forbidden", {{"namespace", ns}, {"id", "f"}}));
  ASSERT_TRUE(added.isOk()) << added.toString();

  ASSERT_TRUE(eventually([&] { return statsOf(*host_, "watcher-forbidden").reconcileErrors >= 3; }))
      << "the refused read did not fail the reconcile (and retry it)";
  EXPECT_TRUE(logs_.contains("reconcile failed: cache read of Secret " + ns +
                             "/token failed: WOP_ERR_FORBIDDEN key=" + ns + "/p reconcileID="));
  EXPECT_FALSE(logs_.contains("secret-f=absent"));
  EXPECT_EQ(watcherAnnotation(*client_, ns, "p", "secret-f"), "");
}

TEST_F(RuntimeTest, ATableGrowOfTwoBillionEntriesFailsInTheGuestNotInTheHost) {
  auto added = host_->add(
      {.name = "hostile-grow-table",
       .modulePath = watModule("test/guests/hostile/grow_table.wat", artifacts_.string()),
       .trusted = true,
       .maxMemoryBytes = 8u << 20,
       .entryTimeout = std::chrono::milliseconds(100)});
  ASSERT_TRUE(added.isOk()) << added.toString();
  EXPECT_TRUE(eventually([&] { return logs_.contains("table.grow 2147483648: -1"); }));
  EXPECT_TRUE(logs_.contains("table.grow 1000000: -1"));
  EXPECT_EQ(statsOf(*host_, "hostile-grow-table").restarts, 0u);
  EXPECT_EQ(statsOf(*host_, "hostile-grow-table").state, runtime::OperatorState::kRunning);
}

// Modules that no retry can run: refused by add() with the reason, never restarted.
struct RefusedCase {
  const char* guest;
  const char* reason;
};

void PrintTo(const RefusedCase& c, std::ostream* os) { *os << c.guest; }

class RefusedGuestTest : public RuntimeTest, public ::testing::WithParamInterface<RefusedCase> {};

TEST_P(RefusedGuestTest, IsRefusedAtLoadNotRetried) {
  const auto& param = GetParam();
  const std::string name = std::string("refused-") + param.guest;
  auto added = host_->add(
      {.name = name,
       .modulePath = watModule(std::string("test/guests/hostile/") + param.guest + ".wat",
                               artifacts_.string()),
       .trusted = true});
  ASSERT_FALSE(added.isOk()) << name << " was accepted";
  EXPECT_THAT(added.message(), HasSubstr(param.reason));
  EXPECT_THAT(added.message(), ::testing::Not(HasSubstr("\n")));
  EXPECT_EQ(statsOf(*host_, name).name, "") << "a refused operator is not kept";
  EXPECT_FALSE(logs_.contains("restarting on a fresh instance"));
}

INSTANTIATE_TEST_SUITE_P(
    Guests, RefusedGuestTest,
    ::testing::Values(RefusedCase{"two_memories", "has 2 memories; a guest gets 1"},
                      RefusedCase{"memory_not_memory", "exports memory as a global, not a memory"},
                      RefusedCase{"data_out_of_bounds", "the module cannot be instantiated"},
                      RefusedCase{"marker_global",
                                  "exports wop_abi_version_1 as a global, not a function"}),
    [](const auto& info) { return std::string(info.param.guest); });

struct HostileCase {
  const char* guest;
  const char* reason;  // what the operator's failure must say
};

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.guest; }

class HostileGuestTest : public RuntimeTest, public ::testing::WithParamInterface<HostileCase> {};

TEST_P(HostileGuestTest, FailsAloneWhileAGoodOperatorKeepsReconciling) {
  const auto& param = GetParam();
  std::string prefix = std::string("rt-h-") + param.guest;
  std::replace(prefix.begin(), prefix.end(), '_', '-');
  startRing(prefix, 2);
  const std::string name = std::string("hostile-") + param.guest;
  auto added = host_->add(
      {.name = name,
       .modulePath = watModule(std::string("test/guests/hostile/") + param.guest + ".wat",
                               artifacts_.string()),
       .trusted = true,
       .maxMemoryBytes = 8u << 20,
       .entryTimeout = std::chrono::milliseconds(100)});
  ASSERT_TRUE(added.isOk()) << added.toString();
  ensureNamespace(*client_, prefix + "-0");
  nlohmann::json target = {{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata",
                            {{"name", "poke"},
                             {"namespace", prefix + "-0"},
                             {"labels", {{"hostile.wasm-operator.dev/target", "yes"}}}}}};
  removeIfPresent(*client_, kConfigMaps, prefix + "-0", "poke");
  ASSERT_TRUE(client_->create(kConfigMaps, prefix + "-0", target.dump()));

  // The good ring keeps passing nonces while the hostile one fails and restarts.
  for (int nonce = 1; nonce <= 3; ++nonce) {
    setNonce(prefix + "-0", "token", nonce);
    ASSERT_TRUE(eventually([&] { return nonceIn(*client_, prefix + "-1", "token") == nonce; }))
        << "the good operator stopped reconciling next to " << param.guest;
  }
  ASSERT_TRUE(eventually([&] { return statsOf(*host_, name).restarts >= 1; }))
      << name << " never failed; last error: " << statsOf(*host_, name).lastError;
  auto stats = statsOf(*host_, name);
  EXPECT_THAT(stats.lastError, HasSubstr(param.reason));
  EXPECT_EQ(statsOf(*host_, prefix + "-op-0").restarts, 0u);
  EXPECT_EQ(statsOf(*host_, prefix + "-op-1").restarts, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Guests, HostileGuestTest,
    ::testing::Values(HostileCase{"spin_reconcile", "exceeded its time limit of 100 ms"},
                      HostileCase{"spin_init", "exceeded its time limit of 100 ms"},
                      HostileCase{"grow_memory", "trapped"},
                      HostileCase{"bad_pointers", "outside its"},
                      HostileCase{"huge_length", "outside its"},
                      HostileCase{"trap", "unreachable"}),
    [](const auto& info) { return std::string(info.param.guest); });

}  // namespace
}  // namespace wop::testing
