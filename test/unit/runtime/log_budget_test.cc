#include "runtime/log_budget.h"

#include <gtest/gtest.h>

namespace wop::runtime {
namespace {

using std::chrono::milliseconds;

class LogBudgetTest : public ::testing::Test {
 protected:
  common::FakeClock clock_;
  LogBudget budget_{clock_,
                    {.linesPerSecond = 100,
                     .lineBurst = 200,
                     .bytesPerSecond = 1000,
                     .byteBurst = 4000,
                     .reportEvery = std::chrono::seconds(1)}};
};

TEST_F(LogBudgetTest, AFloodIsCutToTheBurstThenTheRate) {
  int written = 0;
  for (int i = 0; i < 1000; ++i) written += budget_.admit(10).write;
  EXPECT_EQ(written, 200);
  clock_.advance(milliseconds(500));  // 50 more lines
  for (int i = 0; i < 1000; ++i) written += budget_.admit(10).write;
  EXPECT_EQ(written, 250);
  EXPECT_EQ(budget_.droppedTotal(), 1750u);
}

TEST_F(LogBudgetTest, BytesAreLimitedToo) {
  int written = 0;
  for (int i = 0; i < 100; ++i) written += budget_.admit(1000).write;
  EXPECT_EQ(written, 4);
  clock_.advance(milliseconds(1000));
  for (int i = 0; i < 100; ++i) written += budget_.admit(1000).write;
  EXPECT_EQ(written, 5);
}

TEST_F(LogBudgetTest, ALineAboveTheByteBurstPassesWhenTheBucketIsFull) {
  EXPECT_TRUE(budget_.admit(16000).write);
  EXPECT_FALSE(budget_.admit(1).write);
}

TEST_F(LogBudgetTest, DropsAreReportedOncePerIntervalWithTheirCount) {
  uint64_t reported = 0;
  int reports = 0;
  for (int step = 0; step < 300; ++step) {  // 3 s of 10 lines every 10 ms: 1000 lines a second
    for (int i = 0; i < 10; ++i) {
      const auto verdict = budget_.admit(10);
      if (verdict.reportDropped > 0) {
        reports++;
        reported += verdict.reportDropped;
      }
    }
    clock_.advance(milliseconds(10));
  }
  EXPECT_EQ(reports, 3);
  clock_.advance(std::chrono::seconds(1));
  const auto next = budget_.admit(10);  // the first line after the flood reports the rest
  EXPECT_TRUE(next.write);
  reported += next.reportDropped;
  EXPECT_EQ(reported, budget_.droppedTotal());
  EXPECT_GT(reported, 2000u);
}

TEST_F(LogBudgetTest, ALineWithinTheBudgetReportsNothing) {
  const auto verdict = budget_.admit(10);
  EXPECT_TRUE(verdict.write);
  EXPECT_EQ(verdict.reportDropped, 0u);
}

}  // namespace
}  // namespace wop::runtime
