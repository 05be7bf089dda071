#include "wop/controller.h"

#include <gtest/gtest.h>

#include "wop/reconciler.h"
#include "wop/runtime.h"
#include "wop/testing/fake_host.h"

namespace wop::sdk {
namespace {

using nlohmann::json;
using wop::testing::FakeHost;

constexpr Kind kTestResource{"bench.wasm-operator.dev/v1", "TestResource"};

TEST(SdkController, DeclarationHasEveryFieldOfTheAbi) {
  auto declaration =
      Controller("ring")
          .For(kTestResource, "ring-0", "", {Predicate::GenerationChanged})
          .Owns(kinds::ConfigMap, "ring-0", "app=x")
          .Watches(kTestResource, "ring-1", "", MapTo::Owner)
          .Watches(kinds::Secret, "", "a=b", [](const json&) { return std::vector<std::string>{}; })
          .maxConcurrentReconciles(4)
          .resyncSeconds(600)
          .declaration();
  EXPECT_EQ(declaration, json::parse(R"({
    "name": "ring",
    "for": {"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
            "namespace": "ring-0", "labelSelector": "", "predicates": ["GenerationChanged"]},
    "owns": [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "ring-0",
              "labelSelector": "app=x"}],
    "watches": [{"apiVersion": "bench.wasm-operator.dev/v1", "kind": "TestResource",
                 "namespace": "ring-1", "labelSelector": "", "mapTo": "owner"},
                {"apiVersion": "v1", "kind": "Secret", "namespace": "",
                 "labelSelector": "a=b", "mapTo": "function"}],
    "maxConcurrentReconciles": 4, "resyncSeconds": 600})"));
}

TEST(SdkController, MinimalDeclarationHasDefaults) {
  auto declaration = Controller("c").For(kinds::ConfigMap).declaration();
  EXPECT_EQ(declaration["for"]["predicates"], json::array());
  EXPECT_EQ(declaration["owns"], json::array());
  EXPECT_EQ(declaration["watches"], json::array());
  EXPECT_EQ(declaration["maxConcurrentReconciles"], 1);
  EXPECT_EQ(declaration["resyncSeconds"], 0);
}

TEST(SdkController, FieldIndexesAreDeclaredWithTheirExtractor) {
  auto declaration =
      Controller("c")
          .For(kinds::ConfigMap)
          .Watches(kinds::Secret, "", "", MapTo::None)
          .IndexField(kinds::ConfigMap, "source", IndexExtractor::jsonPointer("/data/source"))
          .IndexField(kinds::ConfigMap, "team", IndexExtractor::label("example.com/team"))
          .IndexField(kinds::Secret, "owner", IndexExtractor::annotation("owner"))
          .declaration();
  EXPECT_EQ(declaration["indexes"], json::parse(R"([
    {"apiVersion": "v1", "kind": "ConfigMap", "name": "source", "jsonPointer": "/data/source"},
    {"apiVersion": "v1", "kind": "ConfigMap", "name": "team", "label": "example.com/team"},
    {"apiVersion": "v1", "kind": "Secret", "name": "owner", "annotation": "owner"}])"));
  EXPECT_FALSE(Controller("c").For(kinds::ConfigMap).declaration().contains("indexes"))
      << "a declaration without indexes is what it was before they existed";
}

class Configured : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    auto ns = config.string("namespace", "default");
    return {Controller("first")
                .For(kinds::ConfigMap, ns)
                .Watches(kinds::Secret, ns, "", MapTo::Function /* without mapper: no keys */),
            Controller("second")
                .For(kinds::Secret, ns)
                .Watches(kinds::ConfigMap, "", "", [](const json& object) {
                  return std::vector<std::string>{
                      "x/" + object["metadata"]["name"].get<std::string>(), "y/z"};
                })};
  }
  Task<Result> reconcile(Context&, const Request&) override { co_return Result::done(); }
};

TEST(SdkController, InitReadsConfigAndDeclaresEachController) {
  FakeHost host;
  host.setConfig(nlohmann::json::parse(R"({"namespace": "team-a"})", nullptr, false));
  detail::Runtime runtime(host);
  Configured op;
  ASSERT_EQ(runtime.init(op), WOP_OK);
  ASSERT_EQ(host.declarations().size(), 2u);
  EXPECT_EQ(host.declarations()[0]["name"], "first");
  EXPECT_EQ(host.declarations()[0]["for"]["namespace"], "team-a");
  EXPECT_EQ(host.declarations()[1]["name"], "second");
  EXPECT_EQ(runtime.config().string("namespace"), "team-a");
}

TEST(SdkController, MapRunsTheMapperOfTheDeclaredIdAndWatch) {
  FakeHost host;
  detail::Runtime runtime(host);
  Configured op;
  ASSERT_EQ(runtime.init(op), WOP_OK);
  EXPECT_EQ(runtime.map(1, 0, R"({"metadata":{"name":"n"}})"), WOP_OK);
  EXPECT_EQ(host.emitted(), (std::vector<std::string>{"x/n", "y/z"}));
  EXPECT_EQ(runtime.map(0, 0, "{}"), WOP_ERR_INVALID_ARGUMENT);  // no mapper
  EXPECT_EQ(runtime.map(1, 1, "{}"), WOP_ERR_INVALID_ARGUMENT);  // no such watch
  EXPECT_EQ(runtime.map(1, 0, "not json"), WOP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(host.emitted().size(), 2u);
}

TEST(SdkController, InitStopsAtTheFirstRefusedDeclaration) {
  FakeHost host;
  host.refuseDeclarations(WOP_ERR_LIMIT);
  detail::Runtime runtime(host);
  Configured op;
  EXPECT_EQ(runtime.init(op), WOP_ERR_LIMIT);
  EXPECT_EQ(host.declarations().size(), 1u);
}

TEST(SdkController, BadConfigFallsBackToEmpty) {
  FakeHost host;
  host.setConfig(nlohmann::json::parse("[1,2", nullptr, false));
  detail::Runtime runtime(host);
  Configured op;
  ASSERT_EQ(runtime.init(op), WOP_OK);
  EXPECT_EQ(host.declarations()[0]["for"]["namespace"], "default");
  EXPECT_EQ(runtime.config().integer("missing", 7), 7);
}

}  // namespace
}  // namespace wop::sdk
