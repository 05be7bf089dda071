#include "runtime/swapper.h"

#include <gtest/gtest.h>

#include "kube/temp_dir.h"

namespace wop::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Changes every 30 s, learned; the clock stops at the last one. With no deviation the prefetch
// is due 50 ms (the lead) before the next.
class SwapperTest : public ::testing::Test {
 protected:
  SwapperTest() : swapper_(clock_, dir_.file("op"), "module", milliseconds(2000), true) {
    for (int i = 0; i < 6; ++i) {
      if (i > 0) clock_.advance(seconds(30));
      swapper_.recordWake();
    }
    lastWake_ = clock_.now();
  }

  common::FakeClock clock_;
  wop::testing::TempDir dir_;
  Swapper swapper_;
  common::TimePoint lastWake_;
};

TEST_F(SwapperTest, APrefetchWithNoRoomIsTriedAgainHalfwayToTheChangeUntilTooClose) {
  clock_.advance(milliseconds(29950));
  ASSERT_TRUE(swapper_.prefetchDue());
  const auto wake = lastWake_ + seconds(30);

  auto retry = swapper_.skipPrefetch();
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(*retry, clock_.now() + (wake - clock_.now()) / 2);
  EXPECT_FALSE(swapper_.prefetchDue()) << "not before the retry";
  EXPECT_EQ(swapper_.nextPrefetch(), retry);
  clock_.advance(*retry - clock_.now());
  EXPECT_TRUE(swapper_.prefetchDue());

  int retries = 1;
  while ((retry = swapper_.skipPrefetch())) {
    ++retries;
    clock_.advance(*retry - clock_.now());
  }
  EXPECT_GT(retries, 2);
  EXPECT_LT(wake - clock_.now(), milliseconds(2)) << "given up only close to the change";
  EXPECT_FALSE(swapper_.prefetchDue());
  EXPECT_FALSE(swapper_.nextPrefetch().has_value());
  EXPECT_EQ(swapper_.stats().prefetchesSkipped, 1u) << "one change not prefetched";

  clock_.advance(wake - clock_.now());
  swapper_.recordWake();  // a new prediction: prefetches are tried again
  clock_.advance(milliseconds(29950));
  EXPECT_TRUE(swapper_.prefetchDue());
}

}  // namespace
}  // namespace wop::runtime
