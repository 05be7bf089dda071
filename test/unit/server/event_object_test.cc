#include "server/event_object.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/utf8.h"

namespace wop::server {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

EventFields fields() {
  return {.regarding = {"Pod", "v1", "ops", "host-0", ""},
          .type = EventType::kNormal,
          .reason = "Loaded",
          .action = "Load",
          .note = "Operator a loaded and running"};
}

TEST(EventObjectTest, ValidFieldsPass) { EXPECT_TRUE(validateEventFields(fields()).isOk()); }

TEST(EventObjectTest, ReasonsAreCamelCaseActionsAlphanumericAndBothBounded) {
  for (const char* reason : {"", "loaded", "Back-off", "Back Off", "BackOff!"}) {
    auto f = fields();
    f.reason = reason;
    EXPECT_THAT(validateEventFields(f).message(), HasSubstr("reason")) << reason;
  }
  auto f = fields();
  f.reason = "A" + std::string(128, 'b');
  EXPECT_FALSE(validateEventFields(f).isOk());
  for (const char* action : {"", "Swap out", "Swap-Out"}) {
    auto a = fields();
    a.action = action;
    EXPECT_THAT(validateEventFields(a).message(), HasSubstr("action")) << action;
  }
}

TEST(EventObjectTest, TheRegardingObjectMustBeNamedAsTheApiNamesObjects) {
  auto noKind = fields();
  noKind.regarding.kind = "";
  EXPECT_THAT(validateEventFields(noKind).message(), HasSubstr("regarding.kind"));
  auto badVersion = fields();
  badVersion.regarding.apiVersion = "v1/../x";
  EXPECT_THAT(validateEventFields(badVersion).message(), HasSubstr("regarding.apiVersion"));
  auto badNamespace = fields();
  badNamespace.regarding.ns = "Ops";
  EXPECT_THAT(validateEventFields(badNamespace).message(), HasSubstr("regarding.namespace"));
  auto badName = fields();
  badName.regarding.name = "../x";
  EXPECT_THAT(validateEventFields(badName).message(), HasSubstr("regarding.name"));
  auto clusterScoped = fields();
  clusterScoped.regarding = {"Node", "v1", "", "node-1", ""};
  EXPECT_TRUE(validateEventFields(clusterScoped).isOk());
}

TEST(EventObjectTest, NotesAreValidUtf8OfAtMostOneKibibyteCutAtACharacter) {
  EXPECT_EQ(boundedNote("plain"), "plain");
  EXPECT_EQ(boundedNote("bad \xff byte"), "bad \xEF\xBF\xBD byte");
  const std::string euros = std::string(1022, 'x') + "\xE2\x82\xAC\xE2\x82\xAC";  // 1028 bytes
  const std::string cut = boundedNote(euros);
  EXPECT_EQ(cut, std::string(1022, 'x'));
  EXPECT_TRUE(common::isValidUtf8(cut));
  EXPECT_EQ(boundedNote(std::string(5000, '\xff')).size(), 1023u);  // 341 whole U+FFFD
}

TEST(EventObjectTest, ClusterScopedObjectsEventsLiveInDefault) {
  EXPECT_EQ(eventNamespace({"Pod", "v1", "ops", "a", ""}), "ops");
  EXPECT_EQ(eventNamespace({"Node", "v1", "", "a", ""}), "default");
}

TEST(EventObjectTest, NamesAreTheRegardingNameAndAHexNumberWithinADnsSubdomain) {
  EXPECT_EQ(eventName("host-0", 0x17a2b3c4d5e6f708), "host-0.17a2b3c4d5e6f708");
  // 236 bytes of name fit before ".ffffffffffffffff": the cut ends in '-', which goes.
  const std::string longName = std::string(235, 'a') + "-" + std::string(17, 'b');
  const std::string name = eventName(longName, 0xffffffffffffffff);
  EXPECT_EQ(name, std::string(235, 'a') + ".ffffffffffffffff");
  EXPECT_EQ(eventName(std::string(253, 'a'), 1).size(), 253u);
}

TEST(EventObjectTest, TheReportingInstanceIsAtMost128Bytes) {
  EXPECT_EQ(reportingInstanceFrom(""), "unknown");
  EXPECT_EQ(reportingInstanceFrom(std::string(300, 'h')).size(), 128u);
}

TEST(EventObjectTest, TheCreateBodyIsAnEventsV1EventAndASeriesWhenSeenBefore) {
  const auto at = common::WallTime(std::chrono::seconds(1'800'000'000));
  auto body =
      Json::parse(newEventBody(fields(), {"wasm-operator.dev/host", "node-a"}, "host-0.1", at));
  EXPECT_EQ(body["eventTime"], "2027-01-15T08:00:00.000000Z");
  EXPECT_EQ(body["type"], "Normal");
  EXPECT_FALSE(body.contains("series"));
  auto series = Json::parse(newEventBody(fields(), {"wasm-operator.dev/host", "node-a"}, "host-0.1",
                                         at, EventSeries{3, at}));
  EXPECT_EQ(series["series"], (Json{{"count", 3}, {"lastObservedTime", body["eventTime"]}}));
  EXPECT_EQ(Json::parse(seriesPatchBody({7, at})),
            (Json{{"series", {{"count", 7}, {"lastObservedTime", body["eventTime"]}}}}));
}

}  // namespace
}  // namespace wop::server
