#include "server/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace wop::server {
namespace {

void appendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// HELP text escapes only backslash and newline.
void appendHelp(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string formatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  // Shortest text that reads back as the same double; integers print without a fraction.
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, v);
  if (error != std::errc()) return "NaN";
  return std::string(buffer, end);
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  appendHelp(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double v) {
  series(name, labels, {}, {});
  value(v);
}

void PrometheusText::histogram(std::string_view name, const Labels& labels,
                               const common::Histogram::Snapshot& snapshot) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < snapshot.upperBounds.size(); ++i) {
    series(bucket, labels, "le", formatNumber(snapshot.upperBounds[i]));
    value(static_cast<double>(snapshot.cumulativeCounts[i]));
  }
  series(bucket, labels, "le", "+Inf");
  value(static_cast<double>(snapshot.count));
  series(std::string(name) + "_sum", labels, {}, {});
  value(snapshot.sum);
  series(std::string(name) + "_count", labels, {}, {});
  value(static_cast<double>(snapshot.count));
}

void PrometheusText::series(std::string_view name, const Labels& labels,
                            std::string_view extraLabel, std::string_view extraValue) {
  out_ += name;
  if (labels.empty() && extraLabel.empty()) return;
  out_ += '{';
  bool first = true;
  auto label = [&](std::string_view key, std::string_view text) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    appendEscaped(out_, text);
    out_ += '"';
  };
  for (const auto& [key, text] : labels) label(key, text);
  if (!extraLabel.empty()) label(extraLabel, extraValue);
  out_ += '}';
}

void PrometheusText::value(double v) {
  out_ += ' ';
  out_ += formatNumber(v);
  out_ += '\n';
}

}  // namespace wop::server
