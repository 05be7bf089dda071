// Reads by field index, in the client and in a mapper's context, with the host's answers scripted
// (the exact request sent, and a failure's message); wop::testing::FakeHost evaluates declared
// indexes itself, and the replicator's tests use that.
#include <gtest/gtest.h>

#include "scripted_host.h"
#include "wop/client.h"
#include "wop/controller.h"
#include "wop/reconciler.h"
#include "wop/runtime.h"

namespace wop::sdk {
namespace {

using nlohmann::json;
using scripted::ScriptedHost;

class SdkClientByIndex : public ::testing::Test {
 protected:
  ScriptedHost host_;
  detail::Runtime runtime_{host_};
  Client& client_ = runtime_.client();
  json object_ = json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"namespace": "ns", "name": "web", "uid": "u-1", "resourceVersion": "3"}})");
};

TEST_F(SdkClientByIndex, ListsByFieldIndexAsMatchingFieldsDoes) {
  host_.putIndexed("apps/v1", "Deployment", "ns", "spec.sourceRef", "shop/settings",
                   json::array({object_}));
  auto found = client_.listByIndex(kinds::Deployment, "ns", "spec.sourceRef", "shop/settings");
  ASSERT_TRUE(found.found()) << found.error();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0]["metadata"]["uid"], "u-1");
  EXPECT_EQ(host_.cacheReads.back(), json::parse(R"({"apiVersion": "apps/v1",
      "kind": "Deployment", "namespace": "ns", "labelSelector": "", "index": "spec.sourceRef",
      "value": "shop/settings"})"));
  auto none = client_.listByIndex(kinds::Deployment, "ns", "spec.sourceRef", "shop/other");
  EXPECT_TRUE(none.found()) << "no match is an empty list";
  EXPECT_TRUE(none->empty());
  (void)client_.listByIndex(kinds::Deployment, "", "spec.sourceRef", "x", "app=web");
  EXPECT_EQ(host_.cacheReads.back()["labelSelector"], "app=web");
}

TEST_F(SdkClientByIndex, AFailedReadByIndexIsAnErrorNamingTheIndex) {
  host_.cacheStatus = WOP_ERR_INVALID_ARGUMENT;  // e.g. no such index declared
  auto read = client_.listByIndex(kinds::Deployment, "", "spec.sourceRef", "x");
  EXPECT_TRUE(read.failed());
  EXPECT_EQ(read.status(), WOP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(read.error().find("by index spec.sourceRef"), std::string::npos) << read.error();
  EXPECT_NE(read.error().find("WOP_ERR_INVALID_ARGUMENT"), std::string::npos) << read.error();
}

// Every answer but "not found" that is not the object is an error, never "absent": a reconcile
// that took a refused read for a deleted object could delete what it should keep.
// Consumers name their source in data.source; a source's change maps to its consumers through
// the field index, with no state in the guest.
class ConsumersOfASource : public Operator {
 public:
  std::vector<Controller> controllers(const Config&) override {
    return {
        Controller("consumers")
            .For(kinds::ConfigMap, "", "role=consumer")
            .Watches(kinds::ConfigMap, "", "role=source",
                     [](MapContext& ctx, const json& source) -> std::vector<std::string> {
                       const std::string key = source["metadata"]["namespace"].get<std::string>() +
                                               "/" + source["metadata"]["name"].get<std::string>();
                       auto consumers = ctx.client.listByIndex(kinds::ConfigMap, "", "source", key,
                                                               "role=consumer");
                       if (consumers.failed()) return {"failed/" + ctx.controller.name()};
                       std::vector<std::string> keys;
                       for (const auto& c : *consumers)
                         keys.push_back(c["metadata"]["namespace"].get<std::string>() + "/" +
                                        c["metadata"]["name"].get<std::string>());
                       return keys;
                     })
            .IndexField(kinds::ConfigMap, "source", IndexExtractor::jsonPointer("/data/source"))};
  }
  Task<Result> reconcile(Context&, const Request&) override { co_return Result::done(); }
};

TEST(SdkController, AMapperReadsTheCacheByIndexThroughItsContext) {
  ScriptedHost host;
  detail::Runtime runtime(host);
  ConsumersOfASource op;
  ASSERT_EQ(runtime.init(op), WOP_OK);
  // What the host's index holds for the source shop/settings.
  auto consumer = [](const char* ns, const char* name) {
    return json{{"metadata", {{"namespace", ns}, {"name", name}}}};
  };
  host.putIndexed("v1", "ConfigMap", "", "source", "shop/settings",
                  json::array({consumer("a", "one"), consumer("b", "two")}), "role=consumer");
  EXPECT_EQ(runtime.map(0, 0, R"({"metadata":{"namespace":"shop","name":"settings"}})"), WOP_OK);
  EXPECT_EQ(host.emitted, (std::vector<std::string>{"a/one", "b/two"}));
  EXPECT_EQ(host.cacheReads.back()["index"], "source");
  EXPECT_EQ(host.cacheReads.back()["value"], "shop/settings");

  host.emitted.clear();
  host.cacheStatus = WOP_ERR_UNAVAILABLE;
  EXPECT_EQ(runtime.map(0, 0, R"({"metadata":{"namespace":"shop","name":"settings"}})"), WOP_OK);
  EXPECT_EQ(host.emitted, (std::vector<std::string>{"failed/consumers"}));
}

}  // namespace
}  // namespace wop::sdk
