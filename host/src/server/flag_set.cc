#include "server/flag_set.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>

namespace wop::server {
namespace {

using common::Result;
using common::Status;
using common::StatusCode;

Status refused(const std::string& flagName, const std::string& reason) {
  return Status(StatusCode::kInvalidArgument, "--" + flagName + ": " + reason);
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// The shortest decimal that reads back as value, never in exponent form ("100000", "0.5").
std::string formatNumber(double value) {
  char buffer[400];  // the longest fixed form of a double
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  return error == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

[[maybe_unused]] bool isKind(FlagKind kind, const FlagValue& value) {  // for assert
  switch (kind) {
    case FlagKind::kText:
      return std::holds_alternative<std::string>(value);
    case FlagKind::kInteger:
      return std::holds_alternative<int64_t>(value);
    case FlagKind::kNumber:
      return std::holds_alternative<double>(value);
    case FlagKind::kOnOff:
      return std::holds_alternative<bool>(value);
    case FlagKind::kDuration:
      return std::holds_alternative<std::chrono::milliseconds>(value);
  }
  return false;
}

bool hasMin(const Flag& flag) {
  return flag.kind == FlagKind::kNumber ? std::isfinite(flag.minNumber)
                                        : flag.minInteger != std::numeric_limits<int64_t>::min();
}

bool hasMax(const Flag& flag) {
  return flag.kind == FlagKind::kNumber ? std::isfinite(flag.maxNumber)
                                        : flag.maxInteger != std::numeric_limits<int64_t>::max();
}

std::string formatBound(const Flag& flag, bool upper) {
  switch (flag.kind) {
    case FlagKind::kNumber:
      return formatNumber(upper ? flag.maxNumber : flag.minNumber);
    case FlagKind::kDuration:
      return formatDuration(std::chrono::milliseconds(upper ? flag.maxInteger : flag.minInteger));
    default:
      return std::to_string(upper ? flag.maxInteger : flag.minInteger);
  }
}

// "1 to 256", "at least 1", "at most 100000", or empty for an unbounded or unranged kind.
std::string rangeText(const Flag& flag) {
  if (flag.kind != FlagKind::kInteger && flag.kind != FlagKind::kNumber &&
      flag.kind != FlagKind::kDuration) {
    return "";
  }
  const bool lower = hasMin(flag);
  const bool upper = hasMax(flag);
  if (lower && upper) return formatBound(flag, false) + " to " + formatBound(flag, true);
  if (lower) return "at least " + formatBound(flag, false);
  if (upper) return "at most " + formatBound(flag, true);
  return "";
}

std::string formatValue(const FlagValue& value) {
  if (auto* text = std::get_if<std::string>(&value)) return quoted(*text);
  if (auto* integer = std::get_if<int64_t>(&value)) return std::to_string(*integer);
  if (auto* number = std::get_if<double>(&value)) return formatNumber(*number);
  if (auto* onOff = std::get_if<bool>(&value)) return *onOff ? "on" : "off";
  return formatDuration(std::get<std::chrono::milliseconds>(value));
}

Status outOfRange(const Flag& flag, const std::string& text) {
  return refused(flag.name, quoted(text) + " is out of range (" + rangeText(flag) + ")");
}

Result<int64_t> parseWhole(const Flag& flag, const std::string& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) return outOfRange(flag, text);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return refused(flag.name, quoted(text) + " is not a whole number");
  }
  return value;
}

Result<FlagValue> parseInteger(const Flag& flag, const std::string& text) {
  auto value = parseWhole(flag, text);
  if (!value) return value.status();
  if (*value < flag.minInteger || *value > flag.maxInteger) return outOfRange(flag, text);
  return FlagValue(*value);
}

Result<FlagValue> parseNumber(const Flag& flag, const std::string& text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) return outOfRange(flag, text);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return refused(flag.name, quoted(text) + " is not a number");
  }
  if (value < flag.minNumber || value > flag.maxNumber) return outOfRange(flag, text);
  return FlagValue(value);
}

Result<FlagValue> parseText(const Flag& flag, const std::string& text) {
  if (flag.choices.empty() ||
      std::find(flag.choices.begin(), flag.choices.end(), text) != flag.choices.end()) {
    return FlagValue(text);
  }
  std::string known;
  for (const auto& choice : flag.choices) known += (known.empty() ? "" : ", ") + choice;
  return refused(flag.name, quoted(text) + " is not one of " + known);
}

// on/off, and Go's true/false, as controller-runtime manifests write them (--leader-elect=true).
Result<FlagValue> parseOnOff(const Flag& flag, const std::string& text) {
  if (text == "on" || text == "true") return FlagValue(true);
  if (text == "off" || text == "false") return FlagValue(false);
  return refused(flag.name, quoted(text) + " is not on or off");
}

// Milliseconds, or a whole number with a unit: ms, s, m, h.
Result<FlagValue> parseDuration(const Flag& flag, const std::string& text) {
  struct Unit {
    const char* suffix;
    int64_t milliseconds;
  };
  static constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
  std::string digits = text;
  int64_t factor = 1;
  for (const Unit& unit : kUnits) {
    const std::string suffix = unit.suffix;
    if (text.size() > suffix.size() && text.ends_with(suffix) &&
        std::isdigit(static_cast<unsigned char>(text[text.size() - suffix.size() - 1]))) {
      digits = text.substr(0, text.size() - suffix.size());
      factor = unit.milliseconds;
      break;
    }
  }
  int64_t count = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (error == std::errc::result_out_of_range) return outOfRange(flag, text);
  if (error != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return refused(flag.name, quoted(text) +
                                  " is not a duration (milliseconds, or a whole number with ms, "
                                  "s, m or h)");
  }
  if (count > flag.maxInteger / factor || count < flag.minInteger / factor) {
    return outOfRange(flag, text);
  }
  const int64_t milliseconds = count * factor;
  if (milliseconds < flag.minInteger || milliseconds > flag.maxInteger) {
    return outOfRange(flag, text);
  }
  return FlagValue(std::chrono::milliseconds(milliseconds));
}

Result<FlagValue> parseValue(const Flag& flag, const std::string& text) {
  switch (flag.kind) {
    case FlagKind::kText:
      return parseText(flag, text);
    case FlagKind::kInteger:
      return parseInteger(flag, text);
    case FlagKind::kNumber:
      return parseNumber(flag, text);
    case FlagKind::kOnOff:
      return parseOnOff(flag, text);
    case FlagKind::kDuration:
      return parseDuration(flag, text);
  }
  return Status(StatusCode::kInternal, "unknown flag kind");
}

bool isHelpWord(const std::string& word) { return word == "--help" || word == "-h"; }

// "--operators FILE_OR_FOLDER", as usage and help show a flag.
std::string flagWithValue(const Flag& flag) { return "--" + flag.name + " " + flag.valueName; }

// The help line's text after the flag: its help and, in parentheses, what is declared.
std::string describe(const Flag& flag) {
  std::vector<std::string> notes;
  if (flag.isRequired) notes.push_back("required");
  if (std::string range = rangeText(flag); !range.empty()) notes.push_back(range);
  if (flag.defaultValue) notes.push_back("default " + formatValue(*flag.defaultValue));
  std::string text = flag.help;
  for (size_t i = 0; i < notes.size(); ++i) text += (i == 0 ? " (" : ", ") + notes[i];
  return notes.empty() ? text : text + ")";
}

}  // namespace

Flag Flag::text(std::string name, std::string valueName, std::string help) {
  Flag flag;
  flag.name = std::move(name);
  flag.kind = FlagKind::kText;
  flag.valueName = std::move(valueName);
  flag.help = std::move(help);
  return flag;
}

Flag Flag::integer(std::string name, std::string valueName, std::string help, int64_t min,
                   int64_t max) {
  Flag flag = text(std::move(name), std::move(valueName), std::move(help));
  flag.kind = FlagKind::kInteger;
  flag.minInteger = min;
  flag.maxInteger = max;
  return flag;
}

Flag Flag::number(std::string name, std::string valueName, std::string help, double min,
                  double max) {
  Flag flag = text(std::move(name), std::move(valueName), std::move(help));
  flag.kind = FlagKind::kNumber;
  flag.minNumber = min;
  flag.maxNumber = max;
  return flag;
}

Flag Flag::choice(std::string name, std::string help, std::vector<std::string> choices) {
  std::string valueName;
  for (const auto& choice : choices) valueName += (valueName.empty() ? "" : "|") + choice;
  Flag flag = text(std::move(name), std::move(valueName), std::move(help));
  flag.choices = std::move(choices);
  return flag;
}

Flag Flag::onOff(std::string name, std::string help) {
  Flag flag = text(std::move(name), "on|off", std::move(help));
  flag.kind = FlagKind::kOnOff;
  return flag;
}

Flag Flag::duration(std::string name, std::string valueName, std::string help,
                    std::chrono::milliseconds min, std::chrono::milliseconds max) {
  Flag flag =
      integer(std::move(name), std::move(valueName), std::move(help), min.count(), max.count());
  flag.kind = FlagKind::kDuration;
  return flag;
}

Flag Flag::required() && {
  isRequired = true;
  return std::move(*this);
}

Flag Flag::withDefault(std::string value) && {
  return std::move(*this).withDefaultValue(std::move(value));
}
Flag Flag::withDefault(int64_t value) && { return std::move(*this).withDefaultValue(value); }
Flag Flag::withDefault(double value) && { return std::move(*this).withDefaultValue(value); }
Flag Flag::withDefault(bool value) && { return std::move(*this).withDefaultValue(value); }
Flag Flag::withDefault(std::chrono::milliseconds value) && {
  return std::move(*this).withDefaultValue(value);
}

Flag Flag::withDefaultValue(FlagValue value) && {
  assert(isKind(kind, value) && "a flag's default must be of its kind");
  defaultValue = std::move(value);
  return std::move(*this);
}

bool ParsedFlags::given(const std::string& name) const { return given_.contains(name); }

template <typename T>
std::optional<T> ParsedFlags::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  if (auto* value = std::get_if<T>(&it->second)) return *value;
  return std::nullopt;
}

std::optional<std::string> ParsedFlags::text(const std::string& name) const {
  return get<std::string>(name);
}
std::optional<int64_t> ParsedFlags::integer(const std::string& name) const {
  return get<int64_t>(name);
}
std::optional<double> ParsedFlags::number(const std::string& name) const {
  return get<double>(name);
}
std::optional<bool> ParsedFlags::onOff(const std::string& name) const { return get<bool>(name); }
std::optional<std::chrono::milliseconds> ParsedFlags::duration(const std::string& name) const {
  return get<std::chrono::milliseconds>(name);
}

FlagSet::FlagSet(std::string program, std::string summary, std::string synopsis)
    : program_(std::move(program)), summary_(std::move(summary)), synopsis_(std::move(synopsis)) {}

FlagSet& FlagSet::add(Flag flag) {
  assert(find(flag.name) == nullptr && "a flag is declared once");
  flags_.push_back(std::move(flag));
  return *this;
}

FlagSet& FlagSet::add(const std::vector<Flag>& flags) {
  for (const Flag& flag : flags) add(flag);
  return *this;
}

const Flag* FlagSet::find(const std::string& name) const {
  auto it = std::find_if(flags_.begin(), flags_.end(),
                         [&](const Flag& flag) { return flag.name == name; });
  return it == flags_.end() ? nullptr : &*it;
}

Result<ParsedFlags> FlagSet::parse(std::span<const std::string> args) const {
  ParsedFlags parsed;
  if (std::any_of(args.begin(), args.end(), isHelpWord)) {
    parsed.helpRequested_ = true;
    return parsed;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (!word.starts_with("--") || word.size() == 2) {
      return Status(StatusCode::kInvalidArgument,
                    quoted(word) + " is not a flag (flags start with --)");
    }
    std::string name = word.substr(2);
    std::optional<std::string> value;
    if (auto equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name.resize(equals);
    }
    const Flag* flag = find(name);
    if (flag == nullptr) return refused(name, "unknown flag (see " + program_ + " --help)");
    if (!value) {
      const bool valueFollows = i + 1 < args.size() && !args[i + 1].starts_with("--");
      if (valueFollows) {
        value = args[++i];
      } else if (flag->kind == FlagKind::kOnOff) {
        value = "on";  // a bare switch, as Go's flags read `--leader-elect`
      } else {
        return refused(name, "missing value (" + flagWithValue(*flag) + ")");
      }
    }
    if (parsed.given(name)) return refused(name, "given more than once");
    auto parsedValue = parseValue(*flag, *value);
    if (!parsedValue) return parsedValue.status();
    parsed.values_[name] = std::move(*parsedValue);
    parsed.given_[name] = true;
  }
  for (const Flag& flag : flags_) {
    if (parsed.given(flag.name)) continue;
    if (flag.isRequired) return refused(flag.name, "required, not given");
    if (flag.defaultValue) parsed.values_[flag.name] = *flag.defaultValue;
  }
  return parsed;
}

std::string FlagSet::usageLine() const {
  std::string synopsis = synopsis_;
  if (synopsis.empty()) {
    bool optional = false;
    for (const Flag& flag : flags_) {
      if (flag.isRequired) {
        synopsis += (synopsis.empty() ? "" : " ") + flagWithValue(flag);
      } else {
        optional = true;
      }
    }
    if (optional) synopsis += synopsis.empty() ? "[flags]" : " [flags]";
  }
  return "usage: " + program_ + (synopsis.empty() ? "" : " " + synopsis) + "\n";
}

std::string FlagSet::help() const {
  std::string text = usageLine() + summary_ + "\n";
  size_t width = 0;
  for (const Flag& flag : flags_) width = std::max(width, flagWithValue(flag).size());
  for (const Flag& flag : flags_) {
    std::string left = flagWithValue(flag);
    left.resize(width + 2, ' ');
    text += "  " + left + describe(flag) + "\n";
  }
  return text;
}

Result<ParsedFlags, int> parseCommandLine(const FlagSet& flags, std::span<const std::string> args,
                                          std::ostream& out, std::ostream& err) {
  auto parsed = flags.parse(args);
  if (!parsed) return reportUsageError(flags, parsed.status().message(), err);
  if (parsed->helpRequested()) {
    out << flags.help();
    return 0;
  }
  return std::move(*parsed);
}

int reportUsageError(const FlagSet& flags, const std::string& message, std::ostream& err) {
  err << flags.program() << ": " << message << "\n";
  return kUsageExitCode;
}

std::string formatDuration(std::chrono::milliseconds duration) {
  const int64_t ms = duration.count();
  if (ms == 0) return "0";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace wop::server
