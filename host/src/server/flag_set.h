// Command-line flags, declared once per command: each flag's name, kind, bounds, default and
// help line. The same declarations parse the command line (refusing anything they do not
// describe, with a one-line reason naming the flag and the text) and print the command's
// --help, so the two cannot drift apart.
//
//   FlagSet flags("wasm-operator run", "Runs the operators ...");
//   flags.add(Flag::text("operators", "FILE_OR_FOLDER", "the operator definitions").required());
//   flags.add(Flag::integer("workers", "N", "threads running guest code", 1, 256).withDefault(2));
//   auto parsed = flags.parse(args);  // Status: `--workers: "abc" is not a whole number`
//   int workers = *parsed->integer("workers");
//
// Syntax: `--name value` or `--name=value`; `--help` or `-h` anywhere asks for the help.
// Refused: an undeclared flag, a flag without a value (the end of the line, or a next word
// starting with "--"), a value that is not of the flag's kind or outside its bounds, a flag
// given twice, a word that is not a flag, and a required flag that is missing.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace wop::server {

// The exit status of a command line the command cannot accept (as getopt tools and Go's flag
// package use); 1 stays for failures while running.
inline constexpr int kUsageExitCode = 2;

enum class FlagKind {
  kText,      // any string, including empty
  kInteger,   // a whole number in [min, max]
  kNumber,    // a finite decimal number in [min, max]
  kOnOff,     // "on" or "off"
  kDuration,  // milliseconds in [min, max]: "1500", or with a unit: "1500ms", "2s", "5m", "1h"
};

using FlagValue = std::variant<std::string, int64_t, double, bool, std::chrono::milliseconds>;

struct Flag {
  std::string name;  // without the leading "--"
  FlagKind kind = FlagKind::kText;
  std::string valueName;  // in help and usage: "--workers N"
  std::string help;       // one line; bounds, "required" and the default are appended to it
  bool isRequired = false;
  std::optional<FlagValue> defaultValue;  // of the flag's kind
  // Bounds, inclusive: integer and duration (in ms) use the integer pair, number the double.
  int64_t minInteger = std::numeric_limits<int64_t>::min();
  int64_t maxInteger = std::numeric_limits<int64_t>::max();
  double minNumber = -std::numeric_limits<double>::infinity();
  double maxNumber = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // text only: the values allowed (none: any)

  static Flag text(std::string name, std::string valueName, std::string help);
  static Flag integer(std::string name, std::string valueName, std::string help, int64_t min,
                      int64_t max);
  static Flag number(std::string name, std::string valueName, std::string help, double min,
                     double max);
  static Flag onOff(std::string name, std::string help);
  // Text limited to the choices; they are its value name in help ("--log-format logfmt|json").
  static Flag choice(std::string name, std::string help, std::vector<std::string> choices);
  static Flag duration(std::string name, std::string valueName, std::string help,
                       std::chrono::milliseconds min, std::chrono::milliseconds max);

  Flag required() &&;
  // The value when the flag is not given, of the flag's kind (a default of the wrong kind is
  // a bug and aborts in debug builds). One overload per type, so a literal picks its own.
  Flag withDefault(std::string value) &&;
  Flag withDefault(const char* value) && {
    return std::move(*this).withDefault(std::string(value));
  }
  Flag withDefault(int64_t value) &&;
  Flag withDefault(int value) && { return std::move(*this).withDefault(int64_t{value}); }
  Flag withDefault(double value) &&;
  Flag withDefault(bool value) &&;
  Flag withDefault(std::chrono::milliseconds value) &&;

 private:
  Flag withDefaultValue(FlagValue value) &&;
};

// The values of one command line: every flag given, and every flag with a default.
// Accessors return nullopt for a flag neither given nor defaulted, or asked for as the wrong
// kind (a bug of the caller, which the tests of each command catch).
class ParsedFlags {
 public:
  bool helpRequested() const { return helpRequested_; }
  // True when the flag was on the command line (not only defaulted).
  bool given(const std::string& name) const;

  std::optional<std::string> text(const std::string& name) const;
  std::optional<int64_t> integer(const std::string& name) const;
  std::optional<double> number(const std::string& name) const;
  std::optional<bool> onOff(const std::string& name) const;
  std::optional<std::chrono::milliseconds> duration(const std::string& name) const;

 private:
  friend class FlagSet;
  template <typename T>
  std::optional<T> get(const std::string& name) const;

  bool helpRequested_ = false;
  std::map<std::string, FlagValue> values_;
  std::map<std::string, bool> given_;
};

class FlagSet {
 public:
  // program: how the user calls the command ("wasm-operator run"), first in the usage line
  // and in every error. summary: what the command does, one or two sentences. synopsis: what
  // follows the program in the usage line; empty: the required flags, then "[flags]".
  FlagSet(std::string program, std::string summary, std::string synopsis = "");

  // Declares a flag; the name must be new (a duplicate declaration is a bug and aborts in
  // debug builds).
  FlagSet& add(Flag flag);
  FlagSet& add(const std::vector<Flag>& flags);

  const std::string& program() const { return program_; }
  const std::vector<Flag>& flags() const { return flags_; }

  // The arguments after the command's name. An error's message names the flag and the text
  // that was refused, without the program (see reportUsageError).
  common::Result<ParsedFlags> parse(std::span<const std::string> args) const;

  // "usage: PROGRAM SYNOPSIS", the summary, then one aligned line per flag.
  std::string help() const;
  std::string usageLine() const;

 private:
  const Flag* find(const std::string& name) const;

  std::string program_;
  std::string summary_;
  std::string synopsis_;
  std::vector<Flag> flags_;
};

// For a command's main: parses args; on --help writes the help to out and gives exit code 0,
// on a refused command line writes "PROGRAM: REASON" (one line) to err and gives
// kUsageExitCode; otherwise the flags.
common::Result<ParsedFlags, int> parseCommandLine(const FlagSet& flags,
                                                  std::span<const std::string> args,
                                                  std::ostream& out, std::ostream& err);

// Writes "PROGRAM: MESSAGE" to err and returns kUsageExitCode: for checks across flags that
// a command makes after parsing (e.g. two flags that exclude each other).
int reportUsageError(const FlagSet& flags, const std::string& message, std::ostream& err);

// "1500ms", "2s", "5m", "1h": the largest unit that divides the duration exactly.
std::string formatDuration(std::chrono::milliseconds duration);

}  // namespace wop::server
