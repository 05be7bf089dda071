// CustomResource<Spec, Status> with WOP_JSON_FIELDS structs, and the Client's typed reads.
#include "wop/custom_resource.h"

#include <gtest/gtest.h>

#include "wop/client.h"
#include "wop/json_fields.h"
#include "wop/runtime.h"
#include "wop/testing/fake_host.h"
#include "wop/types/core_v1.h"

namespace wop::sdk {
namespace {

struct BackupSpec {
  std::string schedule;  // required: absent reads as ""
  std::optional<int32_t> keep;
  std::vector<std::string> targets;
  std::optional<IntOrString> window;
  json unknownFields;
};
WOP_JSON_FIELDS(BackupSpec, schedule, keep, targets, window)

struct BackupStatus {  // no unknownFields: what it does not name is dropped
  std::optional<std::string> lastRun;
  std::optional<std::vector<metav1::Condition>> conditions;
};
WOP_JSON_FIELDS(BackupStatus, lastRun, conditions)

struct Backup : CustomResource<BackupSpec, BackupStatus> {
  static constexpr Kind kKind{"example.com/v1", "Backup"};
};

const json kBackup = json::parse(R"({
  "apiVersion": "example.com/v1", "kind": "Backup",
  "metadata": {"name": "nightly", "namespace": "db", "uid": "u-1", "resourceVersion": "7",
               "generation": 2, "labels": {"app": "db"}},
  "spec": {"schedule": "0 3 * * *", "keep": 7, "targets": ["pg-0", "pg-1"], "window": "2h",
           "encryption": {"key": "k1"}},
  "status": {"lastRun": "2026-12-03T03:00:00Z",
             "conditions": [{"type": "Ready", "status": "True", "reason": "Done",
                             "message": "ok", "lastTransitionTime": "2026-12-03T03:01:00Z",
                             "observedGeneration": 2}]},
  "topLevelExtra": [1, 2]
})");

TEST(CustomResource, RoundTripsKeepingUnknownFields) {
  auto backup = fromJson<Backup>(kBackup);
  ASSERT_TRUE(backup.ok()) << backup.error();
  EXPECT_EQ(backup->metadata.name, "nightly");
  EXPECT_EQ(backup->spec->keep, 7);
  EXPECT_EQ(backup->spec->window->stringValue(), "2h");
  EXPECT_EQ(backup->spec->unknownFields["encryption"]["key"], "k1");
  EXPECT_EQ(backup->status->conditions->at(0).observedGeneration, 2);
  EXPECT_EQ(toJson(*backup), kBackup);

  backup->spec->keep = 14;
  backup->spec->targets.push_back("pg-2");
  json expected = kBackup;
  expected["spec"]["keep"] = 14;
  expected["spec"]["targets"].push_back("pg-2");
  EXPECT_EQ(toJson(*backup), expected);
}

TEST(CustomResource, StatusWithoutUnknownFieldsDropsWhatItDoesNotName) {
  json object = kBackup;
  object["status"]["extra"] = 1;
  auto backup = fromJson<Backup>(object);
  ASSERT_TRUE(backup.ok()) << backup.error();
  EXPECT_FALSE(toJson(*backup)["status"].contains("extra"));
}

TEST(CustomResource, ANewOneIsWrittenWithItsKind) {
  Backup backup;
  backup.metadata.name = "weekly";
  backup.metadata.namespace_ = "db";
  backup.spec.emplace().schedule = "0 4 * * 0";
  backup.spec->targets = {"pg-0"};
  EXPECT_EQ(toJson(backup), json::parse(R"({"apiVersion": "example.com/v1", "kind": "Backup",
      "metadata": {"name": "weekly", "namespace": "db"},
      "spec": {"schedule": "0 4 * * 0", "targets": ["pg-0"]}})"));
}

TEST(CustomResource, AWrongTypedFieldIsAnError) {
  json object = kBackup;
  object["spec"]["targets"][1] = 3;
  EXPECT_EQ(fromJson<Backup>(object).error(), "spec.targets[1]: expected string, got integer");
  object = kBackup;
  object["status"]["conditions"][0]["observedGeneration"] = "2";
  EXPECT_EQ(fromJson<Backup>(object).error(),
            "status.conditions[0].observedGeneration: expected integer, got string");
  object = kBackup;
  object["metadata"] = "nightly";
  EXPECT_EQ(fromJson<Backup>(object).error(), "metadata: expected object, got string");
}

TEST(CustomResource, AnUntypedStatusIsPlainJson) {
  auto backup = fromJson<CustomResource<BackupSpec>>(kBackup);
  ASSERT_TRUE(backup.ok()) << backup.error();
  EXPECT_EQ((*backup->status)["lastRun"], "2026-12-03T03:00:00Z");
  EXPECT_EQ(toJson(*backup), kBackup);
}

class TypedClient : public ::testing::Test {
 protected:
  wop::testing::FakeHost host_;
  detail::Runtime runtime_{host_};
  Client& client_ = runtime_.client();
};

TEST_F(TypedClient, GetAndListDecodeFromTheCache) {
  host_.cluster().put(kBackup);
  auto backup = client_.get<Backup>("db", "nightly");
  ASSERT_TRUE(backup.found()) << backup.error();
  EXPECT_EQ(backup->spec->schedule, "0 3 * * *");
  EXPECT_TRUE(client_.get<Backup>("db", "other").notFound());
  auto backups = client_.list<Backup>("db");
  ASSERT_TRUE(backups.found()) << backups.error();
  ASSERT_EQ(backups->size(), 1u);
  EXPECT_EQ(backups->at(0).metadata.uid, "u-1");
  EXPECT_TRUE(client_.list<corev1::ConfigMap>("db")->empty());
}

TEST_F(TypedClient, AnObjectThatDoesNotDecodeIsAFailedRead) {
  json object = kBackup;
  object["spec"]["keep"] = "seven";
  host_.cluster().put(object);
  auto backup = client_.get<Backup>("db", "nightly");
  EXPECT_TRUE(backup.failed());
  EXPECT_EQ(backup.status(), WOP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(backup.error(),
            "cache read of Backup db/nightly: not a valid object: spec.keep: expected integer, got "
            "string");
  auto backups = client_.list<Backup>("db");
  EXPECT_TRUE(backups.failed());
  EXPECT_NE(backups.error().find("[0].spec.keep"), std::string::npos) << backups.error();
}

TEST_F(TypedClient, AReadFailureStaysAFailure) {
  host_.failReads({}, WOP_ERR_UNAVAILABLE);
  auto backup = client_.get<Backup>("db", "nightly");
  EXPECT_TRUE(backup.failed());
  EXPECT_EQ(backup.status(), WOP_ERR_UNAVAILABLE);
}

}  // namespace
}  // namespace wop::sdk
