#include "wop/task.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wop/runtime.h"
#include "wop/testing/fake_host.h"

namespace wop::sdk {
namespace {

using wop::testing::FakeHost;

Task<int> answer(std::vector<std::string>& trace) {
  trace.push_back("answer runs");
  co_return 42;
}

Task<int> twice(std::vector<std::string>& trace) {
  int a = co_await answer(trace);
  int b = co_await answer(trace);
  co_return a + b;
}

detail::Detached drive(Task<int> task, int& out) { out = co_await std::move(task); }

TEST(SdkTask, IsLazyAndReturnsThroughNestedAwaits) {
  std::vector<std::string> trace;
  auto task = twice(trace);
  EXPECT_TRUE(trace.empty()) << "a Task must not run before it is awaited";
  int out = 0;
  drive(std::move(task), out);
  EXPECT_EQ(out, 84);
  EXPECT_EQ(trace.size(), 2u);
}

TEST(SdkTask, DroppedTaskNeverRuns) {
  std::vector<std::string> trace;
  {
    auto task = answer(trace);
  }
  EXPECT_TRUE(trace.empty());
}

Task<Response> callOnce(detail::Runtime& runtime, std::vector<std::string>& trace,
                        std::string label) {
  trace.push_back(label + " sends");
  Response response = co_await Call(runtime, R"({"verb":"get"})");
  trace.push_back(label + " resumed with " + std::to_string(response.status));
  co_return response;
}

detail::Detached driveCall(Task<Response> task, Response& out) { out = co_await std::move(task); }

TEST(SdkTask, CallSuspendsUntilItsTokenCompletes) {
  FakeHost host;
  detail::Runtime runtime(host);
  std::vector<std::string> trace;
  Response first, second;
  driveCall(callOnce(runtime, trace, "first"), first);
  driveCall(callOnce(runtime, trace, "second"), second);
  EXPECT_EQ(trace, (std::vector<std::string>{"first sends", "second sends"}));
  EXPECT_EQ(runtime.pendingCalls(), 2u);

  // Answers arrive out of order; each resumes exactly its own waiter.
  runtime.complete(2, 404, R"({"message":"nope"})");
  runtime.complete(1, 200, R"({"ok":true})");
  EXPECT_EQ(trace, (std::vector<std::string>{"first sends", "second sends",
                                             "second resumed with 404", "first resumed with 200"}));
  EXPECT_TRUE(first.ok());
  EXPECT_TRUE(second.notFound());
  EXPECT_EQ(second.errorMessage(), "HTTP 404: nope");
  EXPECT_EQ(runtime.pendingCalls(), 0u);
}

TEST(SdkTask, CallRefusedByTheHostCompletesWithoutSuspending) {
  FakeHost host;
  host.failCalls({}, WOP_ERR_LIMIT);
  detail::Runtime runtime(host);
  std::vector<std::string> trace;
  Response out;
  driveCall(callOnce(runtime, trace, "call"), out);
  EXPECT_EQ(trace.back(), "call resumed with " + std::to_string(WOP_ERR_LIMIT));
  EXPECT_TRUE(out.hostError());
  EXPECT_EQ(out.errorMessage(), "host refused the call: WOP_ERR_LIMIT");
  EXPECT_EQ(runtime.pendingCalls(), 0u);
}

// A request that went out but got no HTTP answer (the API server unreachable) is not a refusal:
// the host's metav1.Status says what happened.
TEST(SdkTask, ACallWithoutAnAnswerSaysWhy) {
  Response unreachable{WOP_ERR_UNAVAILABLE,
                       R"({"kind":"Status","reason":"Transport","message":"connection refused"})"};
  EXPECT_TRUE(unreachable.hostError());
  EXPECT_EQ(unreachable.errorMessage(), "WOP_ERR_UNAVAILABLE: connection refused");
  EXPECT_EQ((Response{WOP_ERR_UNAVAILABLE, ""}).errorMessage(),
            "host refused the call: WOP_ERR_UNAVAILABLE");
  EXPECT_EQ((Response{503, "not json"}).errorMessage(), "HTTP 503");
}

TEST(SdkTask, UnknownTokenIsIgnoredWithAWarning) {
  FakeHost host;
  detail::Runtime runtime(host);
  EXPECT_EQ(runtime.complete(99, 200, "{}"), WOP_OK);
  ASSERT_EQ(host.logs().size(), 1u);
  EXPECT_EQ(host.logs()[0].level, WOP_LOG_WARN);
  EXPECT_NE(host.logs()[0].message.find("99"), std::string::npos);
}

}  // namespace
}  // namespace wop::sdk
