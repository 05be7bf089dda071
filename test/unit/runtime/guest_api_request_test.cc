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

TEST(GuestApiRequest, AnEventAboutAClusterScopedObjectGoesToTheDefaultNamespace) {
  // As client-go's recorder does: POST /api/v1/events (no namespace) is refused with 405.
  auto request = parseGuestApiRequest(R"({"verb":"event","namespace":"","body":{
      "involvedObject":{"apiVersion":"v1","kind":"Namespace","name":"team-a","namespace":""},
      "type":"Normal","reason":"Seen","message":"ok"}})");
  ASSERT_TRUE(request) << request.status().toString();
  auto http = toHttpRequest(*request, {{"", "v1", "events"}, "Event", true}, "op");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->path, "/api/v1/namespaces/default/events");
  auto event = nlohmann::json::parse(http->body);
  EXPECT_EQ(event["metadata"]["namespace"], "default");
  EXPECT_EQ(event["involvedObject"]["name"], "team-a");
}

TEST(GuestApiRequest, NamesThatWouldChangeTheUrlAreRefused) {
  // Each would reach another URL than the one asked for: the service proxy (issue 10), a query,
  // or (libcurl resolves dot segments) the namespace itself, or a cluster-wide list.
  for (
      const char* bad :
      {R"({"verb":"get","apiVersion":"v1/../../api/v1/namespaces/x/services/y:80/proxy/z","kind":"Service","namespace":"x","name":"y"})",
       R"({"verb":"list","apiVersion":"v1?q=1","kind":"ConfigMap"})",
       R"({"verb":"delete","apiVersion":"v1","kind":"ConfigMap","namespace":"a","name":".."})",
       R"({"verb":"get","apiVersion":"v1","kind":"ConfigMap","namespace":"a","name":"."})",
       R"({"verb":"list","apiVersion":"v1","kind":"ConfigMap","namespace":".."})",
       R"({"verb":"get","apiVersion":"v1","kind":"ConfigMap","namespace":"a/b","name":"c"})",
       R"({"verb":"get","apiVersion":"v1","kind":"ConfigMap","namespace":"a","name":"b/c"})",
       R"({"verb":"get","apiVersion":"v1","kind":"Config/Map","namespace":"a","name":"b"})",
       R"({"verb":"list","apiVersion":"v1","kind":"ConfigMap","labelSelector":"a=b
X: y"})",
       R"({"verb":"list","apiVersion":"v1","kind":"ConfigMap","resourceVersionMatch":"Any"})",
       R"({"verb":"delete","apiVersion":"v1","kind":"ConfigMap","namespace":"a","name":"b","propagationPolicy":"Now"}"})",
       R"({"verb":"event","namespace":"..","body":{"involvedObject":{"name":"x"}}})"}) {
    auto request = parseGuestApiRequest(bad);
    EXPECT_FALSE(request) << bad;
    if (!request) EXPECT_THAT(request.status().message(), HasSubstr("api call: ")) << bad;
  }
}

TEST(GuestApiRequest, JsonNestedTooDeepIsRefusedBeforeItIsParsed) {
  // A 0.6 MB request, under WOP_MAX_REQUEST_BYTES, that overflowed a worker's stack in the
  // JSON writer.
  const size_t depth = 300'000;
  const std::string deep = R"({"verb":"create","apiVersion":"v1","kind":"ConfigMap","body":)" +
                           std::string(depth, '[') + std::string(depth, ']') + "}";
  auto request = parseGuestApiRequest(deep);
  ASSERT_FALSE(request);
  EXPECT_THAT(request.status().message(), HasSubstr("deeper than 512"));
  // Real objects nest far less; a body at the limit is accepted.
  const std::string atLimit = R"({"verb":"create","apiVersion":"v1","kind":"ConfigMap","body":)" +
                              std::string(511, '[') + std::string(511, ']') + "}";
  EXPECT_TRUE(parseGuestApiRequest(atLimit));
}

// ---- the status subresource (WOP_SUBRESOURCE_STATUS)

TEST(GuestApiRequest, APatchOfTheStatusSubresourceGoesToStatus) {
  auto request = parseGuestApiRequest(R"({"verb":"patch","apiVersion":"bench.wasm-operator.dev/v1",
      "kind":"TestResource","namespace":"a","name":"t","subresource":"status",
      "body":{"status":{"observedNonce":3}}})");
  ASSERT_TRUE(request) << request.status().toString();
  auto http = toHttpRequest(*request, kTestResources, "op");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->method, "PATCH");
  EXPECT_EQ(http->contentType, "application/merge-patch+json");
  EXPECT_EQ(http->path,
            "/apis/bench.wasm-operator.dev/v1/namespaces/a/testresources/t/status?fieldManager=op");
}

TEST(GuestApiRequest, AnApplyOfTheStatusSubresourceIsAServerSideApplyOnStatus) {
  auto request = parseGuestApiRequest(R"({"verb":"apply","apiVersion":"bench.wasm-operator.dev/v1",
      "kind":"TestResource","namespace":"a","name":"t","subresource":"status",
      "fieldManager":"op-status","force":true,"body":{"status":{}}})");
  ASSERT_TRUE(request) << request.status().toString();
  auto http = toHttpRequest(*request, kTestResources, "op");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->contentType, "application/apply-patch+yaml");
  EXPECT_EQ(http->path,
            "/apis/bench.wasm-operator.dev/v1/namespaces/a/testresources/t/status"
            "?fieldManager=op-status&force=true");
}

TEST(GuestApiRequest, AnEmptySubresourceIsTheObjectItself) {
  auto request = parseGuestApiRequest(R"({"verb":"patch","apiVersion":"v1","kind":"ConfigMap",
      "namespace":"a","name":"c","subresource":"","body":{}})");
  ASSERT_TRUE(request) << request.status().toString();
  auto http = toHttpRequest(*request, {{"", "v1", "configmaps"}, "ConfigMap", true}, "op");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->path, "/api/v1/namespaces/a/configmaps/c?fieldManager=op");
}

// The subresource is a path segment: a guest must not reach any other one (scale, binding,
// eviction, token, proxy, exec...) nor smuggle segments, queries or dot segments into the URL.
TEST(GuestApiRequest, OnlyTheStatusSubresourceIsAllowedAndOnlyForPatchAndApply) {
  const std::string prefix =
      R"({"apiVersion":"v1","kind":"Pod","namespace":"a","name":"p","body":{},)";
  for (const char* bad : {R"("scale")", R"("proxy")", R"("exec")", R"("status/../../x")",
                          R"("status?x=1")", R"("../status")", R"("Status")", R"("status ")",
                          R"("/status")", R"("..")", R"(7)", R"(["status"])", R"(null)"}) {
    auto request = parseGuestApiRequest(prefix + R"("verb":"patch","subresource":)" + bad + "}");
    EXPECT_FALSE(request) << bad;
    EXPECT_THAT(request.status().message(), HasSubstr("subresource")) << bad;
  }
  for (const char* verb : {"get", "list", "create", "update", "updateStatus", "delete", "event"}) {
    auto request =
        parseGuestApiRequest(prefix + R"("verb":")" + verb + R"(","subresource":"status"})");
    EXPECT_FALSE(request) << verb;
    EXPECT_THAT(request.status().message(), HasSubstr("only for patch and apply")) << verb;
  }
}

}  // namespace
}  // namespace wop::runtime
