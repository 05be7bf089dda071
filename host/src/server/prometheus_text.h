// Writes Prometheus' text exposition format (version 0.0.4): families with HELP and TYPE,
// samples with escaped label values, histograms as _bucket/_sum/_count series.
// https://prometheus.io/docs/instrumenting/exposition_formats/
//
// Label values are escaped here (\\, \", \n), so any text may be a value; metric and label
// names are the caller's constants.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/histogram.h"

namespace wop::server {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Starts a family; its samples follow. type: counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void histogram(std::string_view name, const Labels& labels,
                 const common::Histogram::Snapshot& snapshot);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void series(std::string_view name, const Labels& labels, std::string_view extraLabel,
              std::string_view extraValue);
  void value(double v);

  std::string out_;
};

}  // namespace wop::server
