// Reading an event trace (../shared/data/traces/traces_N.csv: a header line, then one ISO-8601
// UTC timestamp a line, "2023-01-17T13:45:57.861Z"). bench/swap/trace.py reads the same files
// for the Python replay tools.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wop::bench {

// Nanoseconds since the Unix epoch of "YYYY-MM-DDTHH:MM:SS[.fraction]Z"; nullopt if malformed.
inline std::optional<int64_t> parseIsoTimestamp(std::string_view text) {
  auto number = [&](size_t at, size_t digits) -> std::optional<int> {
    if (at + digits > text.size()) return std::nullopt;
    int value = 0;
    for (size_t i = at; i < at + digits; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  size_t at = 19;
  int64_t fraction = 0, scale = 1'000'000'000;
  if (at < text.size() && text[at] == '.') {
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) {
      if (scale > 1) {
        scale /= 10;
        fraction += (text[at] - '0') * scale;
      }
    }
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;
  const auto days = std::chrono::sys_days(date).time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(days + std::chrono::hours(*hour) +
                                                              std::chrono::minutes(*minute) +
                                                              std::chrono::seconds(*second))
             .count() +
         fraction;
}

// The trace's events as offsets from its first, in order. Fails (with a message) on a missing
// file, a malformed line, a timestamp before the previous one, or fewer than two events.
struct Trace {
  std::string name;
  std::vector<std::chrono::nanoseconds> offsets;
};

inline std::optional<Trace> readTrace(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  Trace trace;
  trace.name = path.substr(path.find_last_of('/') + 1);
  if (trace.name.size() > 4 && trace.name.ends_with(".csv"))
    trace.name.resize(trace.name.size() - 4);
  std::string line;
  std::getline(in, line);  // header
  std::optional<int64_t> first;
  int64_t previous = 0;
  for (int number = 2; std::getline(in, line); ++number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    const auto at = parseIsoTimestamp(line);
    if (!at || (first && *at < previous)) {
      error = path + ":" + std::to_string(number) + ": " +
              (at ? "timestamp before the previous one" : "not an ISO-8601 UTC timestamp");
      return std::nullopt;
    }
    if (!first) first = *at;
    previous = *at;
    trace.offsets.emplace_back(*at - *first);
  }
  if (trace.offsets.size() < 2) {
    error = path + ": fewer than two events";
    return std::nullopt;
  }
  return trace;
}

}  // namespace wop::bench
