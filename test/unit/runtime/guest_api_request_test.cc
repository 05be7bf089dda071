#include "runtime/guest_api_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace wop::runtime {
namespace {

using ::testing::HasSubstr;

const kube::ResourceInfo kTestResources{
    {"bench.wasm-operator.dev", "v1", "testresources"}, "TestResource", true};

TEST(GuestApiRequest, ACreateBecomesAPostWithTheOperatorAsFieldManager) {
  auto request = parseGuestApiRequest(R"({"verb":"create","apiVersion":"bench.wasm-operator.dev/v1",
      "kind":"TestResource","namespace":"ring-1","body":{"metadata":{"name":"a"},"spec":{"nonce":3}}})");
  ASSERT_TRUE(request) << request.status().toString();
  auto http = toHttpRequest(*request, kTestResources, "ring-0");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->method, "POST");
  EXPECT_EQ(http->path,
            "/apis/bench.wasm-operator.dev/v1/namespaces/ring-1/testresources?fieldManager=ring-0");
  EXPECT_EQ(nlohmann::json::parse(http->body)["spec"]["nonce"], 3);
}

TEST(GuestApiRequest, ApplyIsAServerSideApplyPatch) {
  auto request = parseGuestApiRequest(R"({"verb":"apply","apiVersion":"v1","kind":"ConfigMap",
      "namespace":"a","name":"c","fieldManager":"replicator","force":true,"body":{"data":{}}})");
  ASSERT_TRUE(request);
  auto http = toHttpRequest(*request, {{"", "v1", "configmaps"}, "ConfigMap", true}, "op");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->method, "PATCH");
  EXPECT_EQ(http->contentType, "application/apply-patch+yaml");
  EXPECT_EQ(http->path, "/api/v1/namespaces/a/configmaps/c?fieldManager=replicator&force=true");
}

TEST(GuestApiRequest, AnEventIsACoreEventAboutTheObject) {
  auto request = parseGuestApiRequest(R"({"verb":"event","namespace":"a","body":{
      "involvedObject":{"apiVersion":"v1","kind":"ConfigMap","name":"c","namespace":"a"},
      "type":"Warning","reason":"CopyFailed","message":"no room"}})");
  ASSERT_TRUE(request) << request.status().toString();
  auto http = toHttpRequest(*request, {{"", "v1", "events"}, "Event", true}, "replicator");
  ASSERT_TRUE(http);
  auto event = nlohmann::json::parse(http->body);
  EXPECT_EQ(event["reason"], "CopyFailed");
  EXPECT_EQ(event["type"], "Warning");
  EXPECT_EQ(event["source"]["component"], "replicator");
  EXPECT_EQ(event["metadata"]["generateName"], "c.");
}

TEST(GuestApiRequest, BadRequestsAreRefusedWithTheReason) {
  EXPECT_THAT(parseGuestApiRequest("{").status().message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(parseGuestApiRequest(R"({"verb":"explode"})").status().message(),
              HasSubstr("unknown verb"));
  EXPECT_THAT(
      parseGuestApiRequest(R"({"verb":"get","apiVersion":"v1","kind":"Pod"})").status().message(),
      HasSubstr("needs a name"));
  EXPECT_THAT(parseGuestApiRequest(R"({"verb":"create","apiVersion":"v1","kind":"Pod"})")
                  .status()
                  .message(),
              HasSubstr("needs a body"));
  EXPECT_THAT(parseGuestApiRequest(R"({"verb":"patch","apiVersion":"v1","kind":"Pod","name":"p",
      "body":{},"patchType":"weird"})")
                  .status()
                  .message(),
              HasSubstr("patchType"));
}

}  // namespace
}  // namespace wop::runtime
