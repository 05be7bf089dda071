#include "runtime/guest_supervisor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_operator_parts.h"

namespace wop::runtime {
namespace {

using std::chrono::milliseconds;
using testing::FakeGuestFactory;
using testing::GuestScript;
using ::testing::HasSubstr;

constexpr const char* kDeclaration = R"({"name":"c","for":{"apiVersion":"v1","kind":"ConfigMap"}})";

// The supervisor's host calls go through a services object; these forward the life-cycle ones.
class Services final : public hostcalls::OperatorServices {
 public:
  explicit Services(GuestSupervisor& supervisor) : supervisor_(supervisor) {}
  void log(int32_t, std::string_view) override {}
  std::string config() override { return "{}"; }
  hostcalls::HostResult<int32_t> declare(std::string_view json) override {
    return supervisor_.declare(json);
  }
  hostcalls::HostResult<std::string> cacheRead(std::string_view) override { return std::string(); }
  hostcalls::HostResult<uint32_t> apiCall(std::string_view) override { return 1u; }
  hostcalls::HostResult<int32_t> reconcileDone(uint32_t, int32_t, int64_t,
                                               std::string_view) override {
    return 0;
  }
  hostcalls::HostResult<int32_t> emitKey(std::string_view key) override {
    return supervisor_.emitKey(key);
  }
  void contractViolation(std::string what) override { supervisor_.contractViolation(what); }

 private:
  GuestSupervisor& supervisor_;
};

class GuestSupervisorTest : public ::testing::Test {
 protected:
  common::FakeClock clock_;
  GuestSupervisor supervisor_{clock_, milliseconds(1000), milliseconds(8000)};
  Services services_{supervisor_};
  GuestScript script_{.declarations = {kDeclaration}};
  FakeGuestFactory factory_{script_};
};

TEST_F(GuestSupervisorTest, AFreshInstanceDeclaresItsControllersDuringInit) {
  bool never = false;
  ASSERT_TRUE(supervisor_.instantiate(factory_, services_, never).isOk());
  auto declared = supervisor_.takeDeclarations();
  ASSERT_EQ(declared.size(), 1u);
  EXPECT_EQ(declared[0].name, "c");
  EXPECT_NE(supervisor_.guest(), nullptr);
}

TEST_F(GuestSupervisorTest, DeclaringOutsideInitIsABadState) {
  auto result = supervisor_.declare(kDeclaration);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, WOP_ERR_BAD_STATE);
}

TEST_F(GuestSupervisorTest, AnInitThatDeclaresNothingIsRefusedNotRetried) {
  script_.declarations.clear();
  bool never = false;
  auto status = supervisor_.instantiate(factory_, services_, never);
  EXPECT_THAT(status.message(), HasSubstr("declared no controller"));
  EXPECT_EQ(status.code(), common::StatusCode::kFailedPrecondition);
}

TEST_F(GuestSupervisorTest, KeysAreEmittedOnlyInsideMap) {
  bool never = false;
  ASSERT_TRUE(supervisor_.instantiate(factory_, services_, never).isOk());
  EXPECT_EQ(supervisor_.emitKey("shop/a").error().code, WOP_ERR_BAD_STATE);
  script_.onMap = [](hostcalls::OperatorServices& s, uint32_t, uint32_t, std::string_view) {
    EXPECT_TRUE(s.emitKey("shop/a"));
    EXPECT_EQ(s.emitKey("a/b/c").error().code, WOP_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(s.emitKey("cluster-thing"));
    return common::Status::ok();
  };
  auto keys = supervisor_.map(0, 0, "{}");
  ASSERT_TRUE(keys);
  EXPECT_THAT(*keys, ::testing::ElementsAre("shop/a", "cluster-thing"));
}

TEST_F(GuestSupervisorTest, ATrapOrABrokenContractIsAFaultThatSaysWhat) {
  bool never = false;
  ASSERT_TRUE(supervisor_.instantiate(factory_, services_, never).isOk());
  std::string reason;
  EXPECT_EQ(supervisor_.entryFault(common::Status::ok(), "wop_reconcile", reason),
            GuestSupervisor::Fault::kNone);
  EXPECT_EQ(supervisor_.entryFault(common::Status(common::StatusCode::kInternal, "wasm trap"),
                                   "wop_reconcile", reason),
            GuestSupervisor::Fault::kFailed);
  EXPECT_EQ(reason, "wop_reconcile: wasm trap");
  supervisor_.contractViolation("pointer 0xffffff00 + 512 is outside memory");
  EXPECT_EQ(supervisor_.entryFault(common::Status::ok(), "wop_map", reason),
            GuestSupervisor::Fault::kFailed);
  EXPECT_THAT(reason, HasSubstr("broke the ABI contract: pointer 0xffffff00"));
}

TEST_F(GuestSupervisorTest, RestartBackoffDoublesOnVirtualTimeAndResetsAfterAHealthyRun) {
  bool never = false;
  ASSERT_TRUE(supervisor_.instantiate(factory_, services_, never).isOk());
  supervisor_.running();
  std::vector<milliseconds> delays;
  for (int i = 0; i < 5; ++i) {
    delays.push_back(supervisor_.failed());
    EXPECT_EQ(supervisor_.state(), OperatorState::kBackoff);
    EXPECT_EQ(supervisor_.guest(), nullptr) << "a failed instance is dropped";
    EXPECT_FALSE(supervisor_.restartDue());
    clock_.advance(delays.back());
    EXPECT_TRUE(supervisor_.restartDue());
  }
  // Base 1 s, doubled, capped at 8 s, minus up to 25% jitter.
  EXPECT_GE(delays[0], milliseconds(750));
  EXPECT_LE(delays[0], milliseconds(1000));
  EXPECT_GE(delays[3], milliseconds(6000));
  EXPECT_LE(delays[4], milliseconds(8000));
  supervisor_.running();
  clock_.advance(std::chrono::seconds(61));
  EXPECT_LE(supervisor_.failed(), milliseconds(1000)) << "a minute of health resets the backoff";
}

}  // namespace
}  // namespace wop::runtime
