#include "server/lease_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/exec_credential.h"

namespace wop::server {
namespace {

using std::chrono::microseconds;
using ::testing::HasSubstr;
using Json = nlohmann::json;

common::WallTime at(const char* text) {
  auto time = kube::parseRfc3339(text);
  EXPECT_TRUE(time) << text;
  return time.value_or(common::WallTime{});
}

TEST(MicroTimeTest, WritesUtcWithSixFractionalDigits) {
  EXPECT_EQ(formatMicroTime(at("2026-12-03T01:02:03.123456Z")), "2026-12-03T01:02:03.123456Z");
  EXPECT_EQ(formatMicroTime(at("2026-12-03T01:02:03Z")), "2026-12-03T01:02:03.000000Z");
  // Nanoseconds are truncated, as metav1.MicroTime keeps microseconds.
  EXPECT_EQ(formatMicroTime(at("2026-12-03T01:02:03.123456789Z")), "2026-12-03T01:02:03.123456Z");
  EXPECT_EQ(formatMicroTime(common::WallTime{}), "1970-01-01T00:00:00.000000Z");
}

TEST(MicroTimeTest, ReadsOffsetsAndFractionsLikeGo) {
  EXPECT_EQ(at("2026-12-03T03:02:03.5+02:00"), at("2026-12-03T01:02:03.500000Z"));
  EXPECT_EQ(at("2026-12-02T23:32:03-01:30"), at("2026-12-03T01:02:03Z"));
  EXPECT_EQ(at("2026-12-03T01:02:03.1Z") - at("2026-12-03T01:02:03Z"), microseconds(100'000));
  EXPECT_EQ(at("2024-02-29t00:00:00z"), at("2024-02-29T00:00:00Z"));
}

TEST(MicroTimeTest, RefusesWhatIsNotRfc3339) {
  for (const char* text :
       {"", "yesterday", "2026-12-03", "2026-12-03T01:02:03", "2026-12-03 01:02:03Z",
        "2026-13-03T01:02:03Z", "2026-02-30T01:02:03Z", "2026-12-03T24:00:00Z",
        "2026-12-03T01:60:00Z", "2026-12-03T01:02:60Z", "2026-12-03T01:02:03.Z",
        "2026-12-03T01:02:03Zjunk", "2026-12-03T01:02:03+0200", "2026-12-03T01:02:03+24:00",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "+026-12-03T01:02:03Z"}) {
    EXPECT_FALSE(kube::parseRfc3339(text)) << text;
  }
}

TEST(LeaseTest, ReadsTheRecordAndTheResourceVersion) {
  auto lease = parseLease(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
      "metadata":{"name":"l","namespace":"ns","resourceVersion":"42"},
      "spec":{"holderIdentity":"a","leaseDurationSeconds":15,"leaseTransitions":3,
              "acquireTime":"2026-12-03T01:00:00.000000Z","renewTime":"2026-12-03T01:02:03.123456Z"}})");
  ASSERT_TRUE(lease) << lease.status().toString();
  EXPECT_EQ(lease->resourceVersion, "42");
  EXPECT_EQ(lease->record.holderIdentity, "a");
  EXPECT_EQ(lease->record.leaseDurationSeconds, 15);
  EXPECT_EQ(lease->record.leaseTransitions, 3);
  EXPECT_EQ(lease->record.acquireTime, at("2026-12-03T01:00:00Z"));
  EXPECT_EQ(lease->record.renewTime, at("2026-12-03T01:02:03.123456Z"));
}

TEST(LeaseTest, AnAbsentOrNullSpecIsAnEmptyRecord) {
  for (const char* body : {R"({"metadata":{"resourceVersion":"1"}})",
                           R"({"metadata":{"resourceVersion":"1"},"spec":null})",
                           R"({"metadata":{"resourceVersion":"1"},"spec":{"renewTime":null}})"}) {
    auto lease = parseLease(body);
    ASSERT_TRUE(lease) << body;
    EXPECT_EQ(lease->record, LeaseRecord{}) << body;
  }
}

TEST(LeaseTest, NamesWhatIsWrong) {
  auto error = [](const char* body) {
    auto lease = parseLease(body);
    return lease ? std::string("parsed") : lease.status().message();
  };
  EXPECT_THAT(error("nope"), HasSubstr("not JSON"));
  EXPECT_THAT(error(R"({"metadata":{"resourceVersion":""}})"), HasSubstr("resourceVersion"));
  EXPECT_THAT(error(R"({"metadata":{"resourceVersion":5}})"), HasSubstr("resourceVersion"));
  EXPECT_THAT(error(R"({"metadata":[],"spec":{}})"), HasSubstr("no metadata"));
  EXPECT_THAT(error(R"({"metadata":{"resourceVersion":"1"},"spec":{"acquireTime":5}})"),
              HasSubstr("spec.acquireTime is not a string"));
  EXPECT_THAT(error(R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseDurationSeconds":"15"}})"),
              HasSubstr("spec.leaseDurationSeconds is not an integer"));
  EXPECT_THAT(
      error(
          R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseDurationSeconds":9223372036854775807}})"),
      HasSubstr("out of range"));
  EXPECT_THAT(
      error(
          R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseTransitions":18446744073709551615}})"),
      HasSubstr("spec.leaseTransitions is"));
}

TEST(LeaseTest, BuildsTheCreateBody) {
  LeaseRecord record{.holderIdentity = "me",
                     .leaseDurationSeconds = 15,
                     .acquireTime = at("2026-12-03T01:02:03.5Z"),
                     .renewTime = at("2026-12-03T01:02:03.5Z"),
                     .leaseTransitions = 0};
  auto body = Json::parse(newLeaseBody("ns", "l", record));
  EXPECT_EQ(body["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(body["kind"], "Lease");
  EXPECT_EQ(body["metadata"], Json({{"name", "l"}, {"namespace", "ns"}}));
  EXPECT_EQ(body["spec"]["holderIdentity"], "me");
  EXPECT_EQ(body["spec"]["renewTime"], "2026-12-03T01:02:03.500000Z");
  auto back =
      parseLease(R"({"metadata":{"resourceVersion":"1"},"spec":)" + body["spec"].dump() + "}");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->record, record);
}

TEST(LeaseTest, AnUpdateKeepsEveryFieldItDoesNotOwn) {
  auto lease = parseLease(R"({"metadata":{"name":"l","resourceVersion":"7","labels":{"a":"b"}},
      "spec":{"holderIdentity":"old","strategy":"OldestEmulationVersion","leaseTransitions":2}})");
  ASSERT_TRUE(lease);
  LeaseRecord released{.holderIdentity = "", .leaseDurationSeconds = 1, .leaseTransitions = 2};
  auto body = Json::parse(updatedLeaseBody(*lease, released));
  EXPECT_EQ(body["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(body["metadata"]["labels"]["a"], "b");
  EXPECT_EQ(body["spec"]["strategy"], "OldestEmulationVersion");
  EXPECT_EQ(body["spec"]["holderIdentity"], "");
  EXPECT_EQ(body["spec"]["leaseDurationSeconds"], 1);
  EXPECT_TRUE(body["spec"]["renewTime"].is_null());
}

TEST(LeaseTest, TheResourceIsNamespacedLeases) {
  EXPECT_EQ(kube::objectPath(leaseResource(), "ns", "l"),
            "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l");
}

}  // namespace
}  // namespace wop::server
