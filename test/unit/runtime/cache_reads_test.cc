// wop_cache_read against real shared informers (on a scripted transport): reads by field
// index, and what a hostile request gets back.
#include "runtime/cache_reads.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kube/fake_watch_transport.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Json = nlohmann::json;

const kube::ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};

class NoEvents final : public ControllerEvents {
 public:
  void keyQueued(size_t, const std::string&) override {}
  void mapRequested(MapRequest) override {}
  void resynced() override {}
  void cachesSynced() override {}
};

// A ConfigMap of the test: labels as JSON members, and data.source.
std::string configMap(const std::string& ns, const std::string& name, const std::string& labels,
                      const std::string& source) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"namespace":")" + ns +
         R"(","name":")" + name + R"(","resourceVersion":"1","labels":{)" + labels +
         R"(}},"data":{"source":")" + source + R"("}})";
}

std::string listOf(const std::vector<std::string>& items) {
  std::string out = R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"5"},"items":[)";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]}";
}

// One controller: consumers (role=consumer) name their source in data.source (index
// "source"), copies carry the label copy-of (index "copy-of"). No watch holds every ConfigMap.
class CacheReadsTest : public ::testing::Test {
 protected:
  CacheReadsTest() {
    kube::ClientConfig config;
    config.server = "https://127.0.0.1:6443";
    config.bearerToken = "token";
    auto transport = std::make_unique<kube::FakeWatchTransport>(clock_);
    transport_ = transport.get();
    client_ = std::make_unique<kube::Client>(
        config, std::move(transport), kube::ClientOptions{.qps = 0, .maxRetries = 0}, clock_);
    informers_ = std::make_unique<cache::SharedInformers>(*client_,
                                                          cache::InformerOptions{.clock = &clock_});
  }
  ~CacheReadsTest() override {
    if (controllers_) controllers_->stop();
  }

  void start(bool answerLists = true) {
    auto declaration = parseDeclaration(R"({"name":"c",
        "for":{"apiVersion":"v1","kind":"ConfigMap","labelSelector":"role=consumer"},
        "watches":[{"apiVersion":"v1","kind":"ConfigMap","labelSelector":"copy-of","mapTo":"none"}],
        "indexes":[{"apiVersion":"v1","kind":"ConfigMap","name":"source","jsonPointer":"/data/source"},
                   {"apiVersion":"v1","kind":"ConfigMap","name":"copy-of","label":"copy-of"}]})");
    ASSERT_TRUE(declaration) << declaration.status().toString();
    auto made = Controllers::create({{*declaration, {kConfigMaps, kConfigMaps}}}, clock_,
                                    RateLimits{}, nullptr);
    ASSERT_TRUE(made) << made.status().toString();
    controllers_ = *made;
    controllers_->start(
        [this](const cache::InformerKey& key, cache::Handlers handlers) {
          return informers_->subscribe(key, std::move(handlers));
        },
        timers_, events_);
    transport_->runDue();
    if (!answerLists) return;
    ASSERT_EQ(transport_->pendingRequests(), 2u);
    const std::string consumers =
        listOf({configMap("a", "one", R"("role":"consumer")", "shop/settings"),
                configMap("b", "two", R"("role":"consumer")", "shop/settings"),
                configMap("b", "three", R"("role":"consumer")", "shop/other")});
    const std::string copies =
        listOf({configMap("a", "settings", R"("copy-of":"shop.settings")", ""),
                configMap("b", "settings", R"("copy-of":"shop.settings")", ""),
                configMap("b", "other", R"("copy-of":"shop.other")", "")});
    // Each informer's list, by its selector (role%3Dconsumer, or copy-of).
    for (int i = 0; i < 2; ++i) {
      const bool primary = transport_->nextRequest().path.find("role") != std::string::npos;
      ASSERT_TRUE(transport_->respond(200, primary ? consumers : copies));
    }
  }

  hostcalls::HostResult<std::string> read(Json request) {
    if (!request.contains("apiVersion")) request["apiVersion"] = "v1";
    if (!request.contains("kind")) request["kind"] = "ConfigMap";
    return readCache(*controllers_, request.dump());
  }

  // The keys of the items a read answered, or its error as "<code>: <message>".
  std::vector<std::string> keys(Json request) {
    auto answer = read(std::move(request));
    if (!answer) return {std::to_string(answer.error().code) + ": " + answer.error().message};
    std::vector<std::string> out;
    const Json parsed = Json::parse(*answer);  // kept: the loop must not range over a temporary
    for (const auto& item : parsed["items"]) {
      out.push_back(item["metadata"]["namespace"].get<std::string>() + "/" +
                    item["metadata"]["name"].get<std::string>());
    }
    return out;
  }

  common::FakeClock clock_;
  common::ManualTimers timers_{clock_};
  kube::FakeWatchTransport* transport_ = nullptr;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<cache::SharedInformers> informers_;
  std::shared_ptr<NoEvents> events_ = std::make_shared<NoEvents>();
  std::shared_ptr<Controllers> controllers_;
};

TEST_F(CacheReadsTest, AReadByIndexFindsTheObjectsWithThatValue) {
  start();
  EXPECT_THAT(
      keys({{"index", "source"}, {"value", "shop/settings"}, {"labelSelector", "role=consumer"}}),
      ElementsAre("a/one", "b/two"));
  EXPECT_THAT(keys({{"index", "source"},
                    {"value", "shop/settings"},
                    {"namespace", "b"},
                    {"labelSelector", "role=consumer"}}),
              ElementsAre("b/two"));
  EXPECT_THAT(
      keys({{"index", "source"}, {"value", "shop/none"}, {"labelSelector", "role=consumer"}}),
      IsEmpty());
}

TEST_F(CacheReadsTest, AnIndexedReadMustBeCoveredByAWatchAsAListIs) {
  start();
  // No declared watch holds every ConfigMap, so "every ConfigMap with this source" is unknown.
  EXPECT_THAT(keys({{"index", "source"}, {"value", "shop/settings"}}),
              ElementsAre(HasSubstr("-4: no declared watch of ConfigMap with index \"source\"")));
}

TEST_F(CacheReadsTest, AnIndexOnALabelIsCoveredByAWatchSelectingThatLabel) {
  start();
  EXPECT_THAT(keys({{"index", "copy-of"}, {"value", "shop.settings"}}),
              ElementsAre("a/settings", "b/settings"));
  EXPECT_THAT(keys({{"index", "copy-of"}, {"value", "shop.other"}, {"namespace", "b"}}),
              ElementsAre("b/other"));
  // A value no label can have matches nothing.
  EXPECT_THAT(keys({{"index", "copy-of"}, {"value", "shop/settings"}}), IsEmpty());
}

TEST_F(CacheReadsTest, BeforeTheFirstListAReadByIndexIsUnavailableNotEmpty) {
  start(/*answerLists=*/false);
  auto answer = read({{"index", "copy-of"}, {"value", "shop.settings"}});
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, WOP_ERR_UNAVAILABLE);
}

TEST_F(CacheReadsTest, HostileReadsByIndexAreRefusedWithAReason) {
  start();
  auto code = [&](Json request) {
    auto answer = read(std::move(request));
    return answer ? std::string("ok")
                  : std::to_string(answer.error().code) + ": " + answer.error().message;
  };
  EXPECT_THAT(code({{"index", "nope"}, {"value", "x"}}), HasSubstr("-1: cache read: this operator "
                                                                   "declared no index \"nope\""));
  EXPECT_THAT(code({{"index", "source"}, {"value", "x"}, {"name", "one"}}),
              HasSubstr("-1: cache read: \"index\" and \"name\" together"));
  EXPECT_THAT(code({{"index", "source"}}), HasSubstr("-1: cache read: value must be a string"));
  EXPECT_THAT(code({{"index", "source"}, {"value", 7}}), HasSubstr("-1"));
  EXPECT_THAT(code({{"index", 7}, {"value", "x"}}), HasSubstr("-1: cache read: index must be"));
  EXPECT_THAT(code({{"index", "bad\nname"}, {"value", "x"}}),
              HasSubstr("-1: cache read: index must be"));
  EXPECT_THAT(code({{"index", std::string(WOP_MAX_INDEX_NAME_BYTES + 1, 'i')}, {"value", "x"}}),
              HasSubstr("-1"));
  EXPECT_THAT(
      code({{"index", "source"}, {"value", std::string(WOP_MAX_INDEX_VALUE_BYTES + 1, 'v')}}),
      HasSubstr("-1: cache read: value is longer than 1024 bytes"));
  EXPECT_THAT(code({{"kind", "Secret"}, {"index", "source"}, {"value", "x"}}), HasSubstr("-4"));
}

}  // namespace
}  // namespace wop::runtime
