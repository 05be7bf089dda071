#include "runtime/api_calls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_operator_parts.h"

namespace wop::runtime {
namespace {

using ::testing::HasSubstr;
using testing::kCoreV1Resources;

constexpr const char* kGet =
    R"({"verb":"get","apiVersion":"v1","kind":"ConfigMap","namespace":"shop","name":"a"})";

class ApiCallsTest : public ::testing::Test {
 protected:
  void make(kube::RequestOptions identity = {}) {
    calls_ =
        std::make_shared<ApiCalls>(*client_, "op", std::move(identity), [this] { answered_++; });
  }

  common::FakeClock clock_;
  kube::FakeTransport* transport_ = nullptr;
  std::unique_ptr<kube::Client> client_ = testing::fakeClient(clock_, &transport_);
  std::shared_ptr<ApiCalls> calls_;
  int answered_ = 0;
};

TEST_F(ApiCallsTest, ACallIsSentAsTheOperatorAndItsAnswerQueuedForTheGuest) {
  make({.impersonateUser = "system:serviceaccount:ops:copier", .flow = "op"});
  transport_->respond(200, kCoreV1Resources);  // discovery, on its first use
  transport_->respond(200, R"({"kind":"ConfigMap"})");
  auto token = calls_->call(kGet);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(answered_, 1);
  ASSERT_EQ(transport_->sent.size(), 2u);
  EXPECT_EQ(transport_->sent[1].request.path, "/api/v1/namespaces/shop/configmaps/a");
  EXPECT_EQ(transport_->sent[1].auth.impersonateUser, "system:serviceaccount:ops:copier");
  EXPECT_EQ(calls_->pending(), 1);
  auto answer = calls_->take();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->token, *token);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(calls_->pending(), 0);
  EXPECT_EQ(calls_->heldBytes(), 0u);
}

TEST_F(ApiCallsTest, AFailedCallIsAnsweredWithAStatusLikeTheServers) {
  make();
  transport_->respond(200, kCoreV1Resources);
  transport_->failWith(kube::ApiError{kube::ApiReason::kServiceUnavailable, 0, "refused", {}});
  ASSERT_TRUE(calls_->call(kGet));
  auto answer = calls_->take();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, WOP_ERR_UNAVAILABLE);
  EXPECT_THAT(answer->body, HasSubstr(R"("kind":"Status")"));
}

TEST_F(ApiCallsTest, AMalformedRequestIsRefusedNamingTheField) {
  make();
  auto result =
      calls_->call(R"({"verb":"get","apiVersion":"v1","kind":"ConfigMap","name":"../x"})");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, WOP_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(transport_->sent.empty());
}

TEST_F(ApiCallsTest, AtMostWopMaxPendingCallsWaitForTheGuest) {
  make();
  transport_->respond(200, kCoreV1Resources);
  for (uint32_t i = 0; i < WOP_MAX_PENDING_CALLS; ++i) {
    ASSERT_TRUE(calls_->call(kGet)) << i;  // each fails at once (no scripted answer)
  }
  auto over = calls_->call(kGet);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, WOP_ERR_LIMIT);
  ASSERT_TRUE(calls_->take());
  EXPECT_TRUE(calls_->call(kGet)) << "a delivered answer frees its place";
}

TEST_F(ApiCallsTest, AnswersForADroppedInstanceAreNotDelivered) {
  make();
  transport_->respond(200, kCoreV1Resources);
  ASSERT_TRUE(calls_->call(kGet));
  calls_->dropAll();
  EXPECT_FALSE(calls_->take());
  EXPECT_EQ(calls_->pending(), 0);
  EXPECT_EQ(calls_->heldBytes(), 0u);
}

}  // namespace
}  // namespace wop::runtime
