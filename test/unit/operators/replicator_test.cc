// The replicator (operators/replicator/replicator.cc) against the SDK's fake host: copies a
// labelled ConfigMap or Secret into the namespaces its annotation lists, keeps the copies in
// sync, deletes copies no longer wanted, and deletes them all behind its finalizer when the
// source goes; and never drops that finalizer when it could not read the copies (issue 11).
#include <gtest/gtest.h>

#include "wop/object.h"
#include "wop/testing/fake_host.h"

namespace {

using nlohmann::json;
using wop::sdk::kinds::ConfigMap;
using wop::sdk::kinds::Secret;
using wop::testing::Enqueued;
using wop::testing::FakeHost;

constexpr const char* kFinalizer = "replicator.wasm-operator.dev/cleanup";
constexpr const char* kSourceLabel = "replicator.wasm-operator.dev/source";

json source(const std::string& kind, const std::string& to, json data) {
  return {{"apiVersion", "v1"},
          {"kind", kind},
          {"metadata",
           {{"namespace", "team"},
            {"name", "settings"},
            {"labels", {{"replicator.wasm-operator.dev/replicate", "true"}}},
            {"annotations", {{"replicator.wasm-operator.dev/to", to}}}}},
          {"data", std::move(data)}};
}

class ReplicatorTest : public ::testing::Test {
 protected:
  const json* find(wop::sdk::Kind kind, const std::string& ns,
                   const std::string& name = "settings") {
    return fake_.cluster().find(kind, ns, name);
  }
  wop::sdk::Result reconcile(const std::string& controller = "replicator-configmaps") {
    return fake_.reconcile(*replicator_, "team/settings", controller);
  }

  FakeHost fake_;
  std::unique_ptr<wop::sdk::Operator> replicator_ = wop::testing::newOperator();
};

TEST_F(ReplicatorTest, CopiesIntoEveryListedNamespace) {
  fake_.cluster().put(source("ConfigMap", "ns-a, ns-b,team", {{"k", "v"}}));
  auto result = reconcile();
  EXPECT_FALSE(result.isError()) << result.message();
  for (const char* ns : {"ns-a", "ns-b"}) {
    const json* copy = find(ConfigMap, ns);
    ASSERT_NE(copy, nullptr) << ns;
    EXPECT_EQ((*copy)["data"], json({{"k", "v"}}));
    EXPECT_EQ(wop::sdk::label(*copy, kSourceLabel), "team.settings");
  }
  const json* original = find(ConfigMap, "team");
  EXPECT_TRUE(wop::sdk::hasFinalizer(*original, kFinalizer));
  EXPECT_EQ(wop::sdk::annotation(*original, "replicator.wasm-operator.dev/status"),
            "synced to 2 namespaces");
  ASSERT_EQ(fake_.events().size(), 1u);
  EXPECT_EQ(fake_.events()[0].reason, "Synced");
  EXPECT_EQ(fake_.events()[0].ns, "team");
}

TEST_F(ReplicatorTest, CopiesSecretsWithTheirOwnController) {
  fake_.cluster().put(source("Secret", "ns-a", {{"password", "c2VjcmV0"}}));
  auto result = reconcile("replicator-secrets");
  EXPECT_FALSE(result.isError()) << result.message();
  ASSERT_NE(find(Secret, "ns-a"), nullptr);
  EXPECT_EQ(find(ConfigMap, "ns-a"), nullptr);
}

TEST_F(ReplicatorTest, ASecondReconcileInSyncWritesNothing) {
  fake_.cluster().put(source("ConfigMap", "ns-a", {{"k", "v"}}));
  ASSERT_FALSE(reconcile().isError());
  fake_.clearRecords();
  auto result = reconcile();
  EXPECT_FALSE(result.isError()) << result.message();
  EXPECT_TRUE(fake_.calls().empty());
  EXPECT_TRUE(fake_.events().empty());
}

TEST_F(ReplicatorTest, UpdatesACopyWhenTheSourceChanges) {
  fake_.cluster().put(source("ConfigMap", "ns-a", {{"k", "v"}}));
  ASSERT_FALSE(reconcile().isError());
  json changed = *find(ConfigMap, "team");
  changed["data"]["k"] = "w";
  fake_.cluster().put(changed);
  fake_.clearRecords();
  auto result = reconcile();
  EXPECT_FALSE(result.isError()) << result.message();
  EXPECT_EQ((*find(ConfigMap, "ns-a"))["data"]["k"], "w");
  EXPECT_EQ(fake_.calls("apply").size(), 1u);
}

TEST_F(ReplicatorTest, DeletesTheCopyOfANamespaceNoLongerListed) {
  fake_.cluster().put(source("ConfigMap", "ns-a,ns-b", {{"k", "v"}}));
  ASSERT_FALSE(reconcile().isError());
  json narrowed = *find(ConfigMap, "team");
  wop::sdk::setAnnotation(narrowed, "replicator.wasm-operator.dev/to", "ns-a");
  fake_.cluster().put(narrowed);
  auto result = reconcile();
  EXPECT_FALSE(result.isError()) << result.message();
  EXPECT_NE(find(ConfigMap, "ns-a"), nullptr);
  EXPECT_EQ(find(ConfigMap, "ns-b"), nullptr);
}

TEST_F(ReplicatorTest, DeletesEveryCopyBehindItsFinalizer) {
  fake_.cluster().put(source("ConfigMap", "ns-a,ns-b", {{"k", "v"}}));
  ASSERT_FALSE(reconcile().isError());
  EXPECT_EQ(fake_.cluster().remove(ConfigMap, "team", "settings").status, 200);
  ASSERT_NE(find(ConfigMap, "team"), nullptr) << "the finalizer holds it";
  EXPECT_TRUE(wop::sdk::isBeingDeleted(*find(ConfigMap, "team")));

  auto result = reconcile();
  EXPECT_FALSE(result.isError()) << result.message();
  EXPECT_EQ(find(ConfigMap, "ns-a"), nullptr);
  EXPECT_EQ(find(ConfigMap, "ns-b"), nullptr);
  EXPECT_EQ(find(ConfigMap, "team"), nullptr) << "finalizer removed: the source is gone";
}

// Issue 11: a failed read of the copies is not "no copies". Dropping the finalizer then would
// leave the copies behind for good.
class ReplicatorReadFailure : public ReplicatorTest,
                              public ::testing::WithParamInterface<int32_t> {};

TEST_P(ReplicatorReadFailure, KeepsItsFinalizerWhenTheCopiesCannotBeRead) {
  fake_.cluster().put(source("ConfigMap", "ns-a", {{"k", "v"}}));
  ASSERT_FALSE(reconcile().isError());
  fake_.cluster().remove(ConfigMap, "team", "settings");
  fake_.failReads({.verb = "list", .kind = "ConfigMap"}, GetParam());
  fake_.clearRecords();

  auto result = reconcile();
  EXPECT_TRUE(result.isError());
  EXPECT_NE(result.message().find(wop::sdk::detail::statusName(GetParam())), std::string::npos)
      << result.message();
  EXPECT_TRUE(fake_.calls().empty()) << "no delete, no finalizer removal";
  ASSERT_NE(find(ConfigMap, "team"), nullptr);
  EXPECT_TRUE(wop::sdk::hasFinalizer(*find(ConfigMap, "team"), kFinalizer));
  EXPECT_NE(find(ConfigMap, "ns-a"), nullptr);

  fake_.clearFailures();  // the cache is back: the retry cleans up
  EXPECT_FALSE(reconcile().isError());
  EXPECT_EQ(find(ConfigMap, "ns-a"), nullptr);
  EXPECT_EQ(find(ConfigMap, "team"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(HostStatuses, ReplicatorReadFailure,
                         ::testing::Values(WOP_ERR_FORBIDDEN, WOP_ERR_UNAVAILABLE),
                         [](const auto& info) {
                           return std::string(wop::sdk::detail::statusName(info.param));
                         });

TEST_F(ReplicatorTest, AFailedCopyDeleteKeepsTheFinalizer) {
  fake_.cluster().put(source("ConfigMap", "ns-a", {{"k", "v"}}));
  ASSERT_FALSE(reconcile().isError());
  fake_.cluster().remove(ConfigMap, "team", "settings");
  fake_.failCalls({.verb = "delete", .ns = "ns-a"}, 503);
  auto result = reconcile();
  EXPECT_TRUE(result.isError());
  EXPECT_TRUE(wop::sdk::hasFinalizer(*find(ConfigMap, "team"), kFinalizer));
}

TEST_F(ReplicatorTest, AChangedCopyWakesItsSource) {
  fake_.cluster().put(source("ConfigMap", "ns-a", {{"k", "v"}}));
  ASSERT_FALSE(reconcile().isError());
  EXPECT_EQ(fake_.keysFor(*replicator_, *find(ConfigMap, "ns-a")),
            (std::vector<Enqueued>{{"replicator-configmaps", "team/settings"}}));
  EXPECT_EQ(fake_.keysFor(*replicator_, *find(ConfigMap, "team")),
            (std::vector<Enqueued>{{"replicator-configmaps", "team/settings"}}));
  json unrelated = {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", {{"namespace", "team"}, {"name", "other"}}}};
  EXPECT_TRUE(fake_.keysFor(*replicator_, unrelated).empty());
}

}  // namespace
