#include "server/health_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/raw_http_client.h"

namespace wop::server {
namespace {

using common::Status;
using common::StatusCode;
using ::testing::HasSubstr;

HealthCheck passing() {
  return [] { return Status::ok(); };
}
HealthCheck failing(std::string reason) {
  return [reason] { return Status(StatusCode::kUnavailable, reason); };
}

HttpRequest requestWith(std::vector<std::pair<std::string, std::string>> query = {}) {
  HttpRequest request;
  request.method = "GET";
  request.query = std::move(query);
  return request;
}

// Checks "informers" (passing) and "leader" (failing: "not the leader").
class HealthChecksTest : public ::testing::Test {
 protected:
  void addBoth() {
    ASSERT_TRUE(checks_.add("leader", failing("not the leader")).isOk());
    ASSERT_TRUE(checks_.add("informers", passing()).isOk());
  }
  HealthChecks checks_;
};

TEST_F(HealthChecksTest, SaysOkWhenEveryCheckPasses) {
  ASSERT_TRUE(checks_.add("a", passing()).isOk());
  ASSERT_TRUE(checks_.add("b", pingCheck).isOk());
  const HttpReply reply = checks_.serve(requestWith(), "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok");
  EXPECT_EQ(reply.contentType, "text/plain; charset=utf-8");
}

TEST_F(HealthChecksTest, ListsEveryCheckSortedWhenOneFailsWithholdingTheReason) {
  addBoth();
  const HttpReply reply = checks_.serve(requestWith(), "");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body,
            "[+]informers ok\n"
            "[-]leader failed: reason withheld\n"
            "healthz check failed\n");
}

TEST_F(HealthChecksTest, ListsEveryCheckWhenAskedForVerbose) {
  ASSERT_TRUE(checks_.add("b", passing()).isOk());
  ASSERT_TRUE(checks_.add("a", passing()).isOk());
  const HttpReply reply = checks_.serve(requestWith({{"verbose", ""}}), "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "[+]a ok\n[+]b ok\nhealthz check passed\n");
}

TEST_F(HealthChecksTest, SkipsExcludedChecksAndWarnsOfUnknownOnes) {
  addBoth();
  const HttpReply reply = checks_.serve(
      requestWith({{"exclude", "leader"}, {"exclude", "zz\"top"}, {"exclude", "leader"}}), "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok");
  const HttpReply verbose = checks_.serve(
      requestWith({{"exclude", "leader"}, {"exclude", "zz\"top"}, {"verbose", ""}}), "");
  EXPECT_EQ(verbose.body,
            "[+]informers ok\n"
            "[+]leader excluded: ok\n"
            "warn: some health checks cannot be excluded: no matches for \"zz\\\"top\"\n"
            "healthz check passed\n");
}

TEST_F(HealthChecksTest, RunsOneCheckByName) {
  addBoth();
  const HttpReply ok = checks_.serve(requestWith(), "informers");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok");
  const HttpReply failed = checks_.serve(requestWith(), "leader");
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body, "internal server error: not the leader\n");
}

TEST_F(HealthChecksTest, AnswersAnUnknownCheckWith404) {
  addBoth();
  EXPECT_EQ(checks_.serve(requestWith(), "nope").status, 404);
  EXPECT_EQ(checks_.serve(requestWith(), "ping").status, 404);  // only when there are none
}

TEST_F(HealthChecksTest, ReportsPingWhenThereAreNoChecks) {
  EXPECT_EQ(checks_.serve(requestWith(), "").body, "ok");
  EXPECT_EQ(checks_.serve(requestWith({{"verbose", ""}}), "").body,
            "[+]ping ok\nhealthz check passed\n");
  EXPECT_EQ(checks_.serve(requestWith(), "ping").body, "ok");
}

TEST_F(HealthChecksTest, CountsAThrowingCheckAsFailed) {
  ASSERT_TRUE(
      checks_.add("throws", []() -> Status { throw std::runtime_error("broken\nline"); }).isOk());
  EXPECT_EQ(checks_.serve(requestWith(), "").status, 500);
  const HttpReply one = checks_.serve(requestWith(), "throws");
  EXPECT_EQ(one.status, 500);
  EXPECT_EQ(one.body, "internal server error: throws: broken\\nline\n");  // one line
}

TEST_F(HealthChecksTest, RefusesBadAndDuplicateNames) {
  EXPECT_EQ(checks_.add("", passing()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(checks_.add("a/b", passing()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(checks_.add("a", nullptr).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(checks_.add("a", passing()).isOk());
  const Status again = checks_.add("a", passing());
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("already exists"));
}

TEST_F(HealthChecksTest, TakesChecksWhileServing) {
  std::atomic<bool> done{false};
  std::thread prober([&] {
    while (!done) EXPECT_EQ(checks_.serve(requestWith(), "").status, 200);
  });
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(checks_.add("check-" + std::to_string(i), passing()).isOk());
  }
  done = true;
  prober.join();
  EXPECT_THAT(checks_.serve(requestWith({{"verbose", ""}}), "").body, HasSubstr("[+]check-199 ok"));
}

TEST(HealthRoutes, ServesHealthzAndReadyzOverHttp) {
  HealthChecks healthz;
  HealthChecks readyz;
  ASSERT_TRUE(healthz.add("ping", pingCheck).isOk());
  ASSERT_TRUE(readyz.add("informers", failing("3 of 4 informers synced")).isOk());
  auto server = HttpServer::start("127.0.0.1:0", healthRoutes(healthz, readyz));
  ASSERT_TRUE(server) << server.status().toString();
  const uint16_t port = (*server)->port();

  EXPECT_EQ(rawhttp::get(port, "/healthz").body, "ok");
  EXPECT_EQ(rawhttp::get(port, "/healthz/").body, "ok");
  EXPECT_EQ(rawhttp::get(port, "/healthz?verbose").body, "[+]ping ok\nhealthz check passed\n");
  EXPECT_EQ(rawhttp::get(port, "/healthz/ping").body, "ok");
  EXPECT_EQ(rawhttp::get(port, "/healthz/nope").status, 404);

  const auto ready = rawhttp::get(port, "/readyz");
  EXPECT_EQ(ready.status, 500);
  EXPECT_EQ(ready.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_THAT(ready.body, HasSubstr("[-]informers failed"));
  const auto one = rawhttp::get(port, "/readyz/informers/");
  EXPECT_EQ(one.status, 500);
  EXPECT_EQ(one.body, "internal server error: 3 of 4 informers synced\n");
  EXPECT_EQ(rawhttp::get(port, "/readyz?exclude=informers").status, 200);
}

}  // namespace
}  // namespace wop::server
