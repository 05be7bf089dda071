#include "kube/exec_credential.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "common/base64.h"
#include "common/limits.h"
#include "common/subprocess.h"

extern char** environ;  // POSIX: the process environment the plugin inherits

namespace wop::kube {
namespace {

using common::Result;
using common::Status;
using common::StatusCode;
using nlohmann::json;

// Stderr lines quoted in an error message: enough for a plugin's explanation, not its log.
constexpr size_t kStderrLinesInMessage = 5;
constexpr const char* kExecInfoVariable = "KUBERNETES_EXEC_INFO";

Status badCredential(const std::string& what) {
  return Status(StatusCode::kInvalidArgument, "output is not a valid ExecCredential: " + what);
}

// The string member key of object, or nullopt if absent or null; a non-string is an error.
Result<std::optional<std::string>> optionalString(const json& object, const char* key,
                                                  const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return badCredential(where + key + " is not a string");
  return std::optional<std::string>(it->get<std::string>());
}

std::string firstLines(const std::string& text, size_t lines) {
  size_t end = 0;
  for (size_t count = 0; count < lines && end < text.size(); ++count) {
    const size_t newline = text.find('\n', end);
    end = newline == std::string::npos ? text.size() : newline + 1;
  }
  std::string head = text.substr(0, end);
  while (!head.empty() && (head.back() == '\n' || head.back() == '\r')) head.pop_back();
  return head;
}

// Parses exactly `count` decimal digits at text[pos...].
bool parseDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool expectChar(std::string_view text, size_t pos, char c) {
  return pos < text.size() && std::toupper(static_cast<unsigned char>(text[pos])) == c;
}

// Parses "[.fraction](Z|+hh:mm|-hh:mm)" at text[pos...]: the nanoseconds and the UTC offset.
bool parseFractionAndOffset(std::string_view text, size_t pos, int64_t& nanos, int& offsetSeconds) {
  nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    int64_t scale = 100'000'000;
    size_t digits = 0;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      nanos += (text[pos] - '0') * scale;
      scale /= 10;
    }
    if (digits == 0) return false;
  }
  if (expectChar(text, pos, 'Z')) {
    offsetSeconds = 0;
    return pos + 1 == text.size();
  }
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return false;
  int hours = 0;
  int minutes = 0;
  if (!parseDigits(text, pos + 1, 2, hours) || !expectChar(text, pos + 3, ':') ||
      !parseDigits(text, pos + 4, 2, minutes) || pos + 6 != text.size() || hours > 23 ||
      minutes > 59) {
    return false;
  }
  offsetSeconds = (text[pos] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  return true;
}

Result<std::optional<common::WallTime>> expiryOf(const json& status) {
  auto text = optionalString(status, "expirationTimestamp", "status.");
  if (!text) return text.status();
  if (!*text) return std::optional<common::WallTime>();
  const auto expiry = parseRfc3339(**text);
  if (!expiry) {
    return badCredential("status.expirationTimestamp \"" + **text + "\" is not RFC 3339");
  }
  return std::optional<common::WallTime>(expiry);
}

Result<Credentials> credentialsOf(const json& status) {
  auto token = optionalString(status, "token", "status.");
  auto cert = optionalString(status, "clientCertificateData", "status.");
  auto key = optionalString(status, "clientKeyData", "status.");
  for (const Status* s : {&token.status(), &cert.status(), &key.status()}) {
    if (!s->isOk()) return *s;
  }
  Credentials credentials{token->value_or(""), cert->value_or(""), key->value_or("")};
  if (credentials.clientCertPem.empty() != credentials.clientKeyPem.empty()) {
    return badCredential("status has only one of clientCertificateData and clientKeyData");
  }
  if (credentials.bearerToken.empty() && credentials.clientCertPem.empty()) {
    return badCredential("status has neither token nor clientCertificateData and clientKeyData");
  }
  return credentials;
}

}  // namespace

std::optional<common::WallTime> parseRfc3339(std::string_view text) {
  using namespace std::chrono;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parseDigits(text, 0, 4, year) || !expectChar(text, 4, '-') ||
      !parseDigits(text, 5, 2, month) || !expectChar(text, 7, '-') ||
      !parseDigits(text, 8, 2, day) || !expectChar(text, 10, 'T') ||
      !parseDigits(text, 11, 2, hour) || !expectChar(text, 13, ':') ||
      !parseDigits(text, 14, 2, minute) || !expectChar(text, 16, ':') ||
      !parseDigits(text, 17, 2, second)) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  int offsetSeconds = 0;
  if (!parseFractionAndOffset(text, 19, nanos, offsetSeconds)) return std::nullopt;
  // A real calendar day and time of day (Go's time.Parse refuses February 30 and second 60).
  const year_month_day date{std::chrono::year(year),
                            std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  // In whole seconds first (no overflow for any four-digit year), then only instants a
  // WallTime (int64 nanoseconds, years 1677 to 2262) holds.
  const sys_seconds instant =
      sys_days(date) + hours(hour) + minutes(minute) + seconds(second) - seconds(offsetSeconds);
  const auto earliest = ceil<seconds>(common::WallTime::min()) + seconds(1);
  const auto latest = floor<seconds>(common::WallTime::max()) - seconds(1);
  if (instant < earliest || instant > latest) return std::nullopt;
  return time_point_cast<common::WallTime::duration>(instant) + nanoseconds(nanos);
}

common::Result<ExecCredentialResult> parseExecCredential(std::string_view text,
                                                         const std::string& apiVersion) {
  const json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return badCredential("not JSON");
  if (!document.is_object()) return badCredential("not a JSON object");
  auto version = optionalString(document, "apiVersion", "");
  auto kind = optionalString(document, "kind", "");
  if (!version) return version.status();
  if (!kind) return kind.status();
  if (version->value_or("") != apiVersion) {
    return badCredential("apiVersion is \"" + version->value_or("") + "\", expected \"" +
                         apiVersion + "\"");
  }
  if (kind->value_or("") != "ExecCredential") {
    return badCredential("kind is \"" + kind->value_or("") + "\", expected \"ExecCredential\"");
  }
  const auto status = document.find("status");
  if (status == document.end() || !status->is_object()) return badCredential("status is missing");
  auto credentials = credentialsOf(*status);
  if (!credentials) return credentials.status();
  auto expiry = expiryOf(*status);
  if (!expiry) return expiry.status();
  return ExecCredentialResult{std::move(credentials).value(), *expiry};
}

std::string execInfoJson(const ClientConfig& config) {
  const std::string apiVersion = config.exec ? config.exec->apiVersion : "";
  json info = {
      {"apiVersion", apiVersion}, {"kind", "ExecCredential"}, {"spec", {{"interactive", false}}}};
  if (config.exec && config.exec->provideClusterInfo) {
    json cluster = {{"server", config.server}};
    if (!config.caPem.empty()) {
      cluster["certificate-authority-data"] = common::base64Encode(config.caPem);
    }
    if (!config.tlsServerName.empty()) cluster["tls-server-name"] = config.tlsServerName;
    if (config.insecureSkipTlsVerify) cluster["insecure-skip-tls-verify"] = true;
    info["spec"]["cluster"] = std::move(cluster);
  }
  // Kubeconfig strings need not be UTF-8; replace rather than throw.
  return info.dump(-1, ' ', false, json::error_handler_t::replace);
}

ExecPlugin::ExecPlugin(const ClientConfig& config)
    : exec_(config.exec.value_or(ExecConfig{})), execInfo_(execInfoJson(config)) {}

// The process environment, then the kubeconfig's env, then KUBERNETES_EXEC_INFO; a later
// definition of a name replaces an earlier one, as with Go's exec.Cmd in client-go.
std::vector<std::string> ExecPlugin::environment() const {
  std::set<std::string> overridden{kExecInfoVariable};
  for (const auto& [name, value] : exec_.env) overridden.insert(name);
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!overridden.contains(std::string(text.substr(0, text.find('='))))) env.emplace_back(text);
  }
  for (const auto& [name, value] : exec_.env) env.push_back(name + "=" + value);
  env.push_back(std::string(kExecInfoVariable) + "=" + execInfo_);
  return env;
}

Status ExecPlugin::failure(const Status& cause) const {
  return cause.withContext("exec credential plugin " + exec_.command);
}

common::Result<ExecCredentialResult> ExecPlugin::run() const {
  common::SubprocessOptions options;
  options.command = exec_.command;
  options.args = exec_.args;
  options.env = environment();
  options.timeout = kExecPluginTimeout;
  options.maxStdoutBytes = limits::kMaxExecCredentialBytes;
  options.maxStderrBytes = limits::kMaxExecStderrBytes;
  auto ran = common::runSubprocess(options);
  if (!ran) {
    Status cause = ran.status();
    if (cause.code() == StatusCode::kNotFound && !exec_.installHint.empty()) {
      cause = Status(cause.code(), cause.message() + "\n" + exec_.installHint);
    }
    return failure(cause);
  }
  if (ran->termSignal != 0 || ran->exitCode != 0) {
    std::string what = ran->termSignal != 0 ? "killed by signal " + std::to_string(ran->termSignal)
                                            : "exited with code " + std::to_string(ran->exitCode);
    const std::string stderrHead = firstLines(ran->stderrText, kStderrLinesInMessage);
    if (!stderrHead.empty()) what += ": " + stderrHead;
    // 127 is the shell's "command not found", e.g. from a wrapper script.
    if (ran->exitCode == 127 && !exec_.installHint.empty()) what += "\n" + exec_.installHint;
    return failure(Status(StatusCode::kUnavailable, what));
  }
  auto parsed = parseExecCredential(ran->stdoutText, exec_.apiVersion);
  if (!parsed) return failure(parsed.status());
  return parsed;
}

}  // namespace wop::kube
