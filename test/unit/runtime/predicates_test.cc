#include "runtime/predicates.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

namespace wop::runtime {
namespace {

using nlohmann::json;

const json kDeployment = json::parse(R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "resourceVersion": "100",
               "generation": 4, "labels": {"app": "web"}, "annotations": {"team": "a"}},
  "spec": {"replicas": 2},
  "status": {"readyReplicas": 1}
})");

const json kConfigMap = json::parse(R"({
  "apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "settings", "namespace": "shop", "uid": "u-2", "resourceVersion": "7"},
  "data": {"level": "info"}
})");

cache::ObjectPtr decode(const json& object) {
  simdjson::dom::parser parser;
  auto decoded = cache::decodeObjectJson(parser, object.dump(), {});
  EXPECT_TRUE(decoded) << decoded.status().toString();
  return decoded ? *decoded : nullptr;
}

// One row: how the object changed, and whether each filter lets the update through.
struct Row {
  const char* change;
  const json& before;
  std::function<void(json&)> edit;
  bool generation, labels, annotations, byDefault;
};

TEST(Predicates, DecideWhichUpdatesWakeAController) {
  const Row rows[] = {
      {"status only, object with a generation", kDeployment,
       [](json& o) {
         o["status"]["readyReplicas"] = 2;
         o["metadata"]["resourceVersion"] = "101";
       },
       false, false, false, true},
      {"spec, generation bumped", kDeployment,
       [](json& o) {
         o["spec"]["replicas"] = 3;
         o["metadata"]["generation"] = 5;
         o["metadata"]["resourceVersion"] = "101";
       },
       true, false, false, true},
      {"resourceVersion only", kDeployment,
       [](json& o) { o["metadata"]["resourceVersion"] = "101"; }, false, false, false, false},
      {"a label", kDeployment,
       [](json& o) {
         o["metadata"]["labels"]["tier"] = "front";
         o["metadata"]["resourceVersion"] = "101";
       },
       false, true, false, true},
      {"an annotation", kDeployment,
       [](json& o) {
         o["metadata"]["annotations"]["team"] = "b";
         o["metadata"]["resourceVersion"] = "101";
       },
       false, false, true, true},
      {"deletion started", kDeployment,
       [](json& o) { o["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"; }, true, false,
       false, true},
      {"ConfigMap data, no generation", kConfigMap,
       [](json& o) {
         o["data"]["level"] = "debug";
         o["metadata"]["resourceVersion"] = "8";
       },
       true, false, false, true},
      {"ConfigMap resourceVersion only", kConfigMap,
       [](json& o) { o["metadata"]["resourceVersion"] = "8"; }, false, false, false, false},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.change);
    json edited = row.before;
    row.edit(edited);
    auto before = decode(row.before);
    auto after = decode(edited);
    ASSERT_TRUE(before && after);
    EXPECT_EQ(UpdateFilter({Predicate::kGenerationChanged}).passes(before, after), row.generation);
    EXPECT_EQ(UpdateFilter({Predicate::kLabelsChanged}).passes(before, after), row.labels);
    EXPECT_EQ(UpdateFilter({Predicate::kAnnotationsChanged}).passes(before, after),
              row.annotations);
    EXPECT_EQ(UpdateFilter().passes(before, after), row.byDefault);
  }
}

TEST(Predicates, SeveralPassWhenAnyPasses) {
  json relabeled = kDeployment;
  relabeled["metadata"]["labels"]["tier"] = "front";
  auto filter = UpdateFilter({Predicate::kGenerationChanged, Predicate::kLabelsChanged});
  EXPECT_TRUE(filter.passes(decode(kDeployment), decode(relabeled)));
  EXPECT_FALSE(filter.passes(decode(kDeployment), decode(kDeployment)));
}

TEST(Predicates, AreParsedFromTheirNames) {
  auto filter = UpdateFilter::parse(
      {"GenerationChanged", "LabelsChanged", "AnnotationsChanged", "LabelsChanged"});
  ASSERT_TRUE(filter) << filter.status().toString();
  EXPECT_EQ(filter->predicates(),
            (std::vector{Predicate::kGenerationChanged, Predicate::kLabelsChanged,
                         Predicate::kAnnotationsChanged}));
  for (Predicate predicate : filter->predicates()) {
    EXPECT_EQ(parsePredicate(predicateName(predicate)).value(), predicate);
  }
}

TEST(Predicates, RefuseAnUnknownNameAndSayWhichOne) {
  auto filter = UpdateFilter::parse({"GenerationChanged", "generationchanged"});
  ASSERT_FALSE(filter);
  EXPECT_EQ(filter.status().code(), common::StatusCode::kInvalidArgument);
  EXPECT_NE(filter.status().message().find("\"generationchanged\""), std::string::npos);
  EXPECT_FALSE(parsePredicate(""));
  EXPECT_FALSE(parsePredicate(std::string(100000, 'x')));
}

TEST(Predicates, AnEmptyListIsTheDefaultFilter) {
  auto filter = UpdateFilter::parse({});
  ASSERT_TRUE(filter);
  EXPECT_TRUE(filter->predicates().empty());
}

}  // namespace
}  // namespace wop::runtime
