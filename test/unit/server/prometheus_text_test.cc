#include "server/prometheus_text.h"

#include <gtest/gtest.h>

#include <array>

namespace wop::server {
namespace {

TEST(PrometheusTextTest, WritesAFamilyWithHelpTypeAndLabelledSamples) {
  PrometheusText out;
  out.family("workqueue_depth", "gauge", "Current depth of workqueue");
  out.sample("workqueue_depth", {{"controller", "ring-0"}, {"name", "ring-0"}}, 3);
  out.sample("up", {}, 1);
  EXPECT_EQ(out.text(),
            "# HELP workqueue_depth Current depth of workqueue\n"
            "# TYPE workqueue_depth gauge\n"
            "workqueue_depth{controller=\"ring-0\",name=\"ring-0\"} 3\n"
            "up 1\n");
}

TEST(PrometheusTextTest, EscapesLabelValuesAndHelp) {
  PrometheusText out;
  out.family("x", "counter", "a\\b\nc");
  out.sample("x", {{"l", "q\"uote\\back\nline"}}, 0.25);
  EXPECT_EQ(out.text(),
            "# HELP x a\\\\b\\nc\n# TYPE x counter\n"
            "x{l=\"q\\\"uote\\\\back\\nline\"} 0.25\n");
}

TEST(PrometheusTextTest, WritesAHistogramAsBucketsSumAndCount) {
  constexpr std::array kBounds{0.5, 1.0};
  common::Histogram histogram(kBounds);
  histogram.observe(0.25);
  histogram.observe(2);
  PrometheusText out;
  out.histogram("t_seconds", {{"controller", "a"}}, histogram.snapshot());
  EXPECT_EQ(out.text(),
            "t_seconds_bucket{controller=\"a\",le=\"0.5\"} 1\n"
            "t_seconds_bucket{controller=\"a\",le=\"1\"} 1\n"
            "t_seconds_bucket{controller=\"a\",le=\"+Inf\"} 2\n"
            "t_seconds_sum{controller=\"a\"} 2.25\n"
            "t_seconds_count{controller=\"a\"} 2\n");
}

}  // namespace
}  // namespace wop::server
