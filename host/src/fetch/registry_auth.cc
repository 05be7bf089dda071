#include "fetch/registry_auth.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace wop::fetch {

using common::Status;
using common::StatusCode;
using Json = nlohmann::json;

namespace {

// "https://index.docker.io/v1/" -> "index.docker.io"; "host:5000" stays.
std::string hostOf(std::string key) {
  if (const auto scheme = key.find("://"); scheme != std::string::npos)
    key = key.substr(scheme + 3);
  return key.substr(0, key.find('/'));
}

bool sameRegistry(const std::string& key, const std::string& registry) {
  const std::string host = hostOf(key);
  if (host == registry) return true;
  auto isHub = [](const std::string& h) {
    return h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io";
  };
  return isHub(host) && isHub(registry);
}

common::Result<RegistryCredentials> entryCredentials(const Json& entry) {
  if (!entry.is_object()) return Status(StatusCode::kInvalidArgument, "an entry is not an object");
  RegistryCredentials credentials;
  if (entry.contains("auth") && entry["auth"].is_string() &&
      !entry["auth"].get<std::string>().empty()) {
    auto decoded = common::base64Decode(entry["auth"].get<std::string>());
    if (!decoded) return Status(StatusCode::kInvalidArgument, "its auth is not base64");
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) {
      return Status(StatusCode::kInvalidArgument, "its auth is not user:password");
    }
    credentials.username = decoded->substr(0, colon);
    credentials.password = decoded->substr(colon + 1);
    return credentials;
  }
  if (entry.contains("username") && entry["username"].is_string()) {
    credentials.username = entry["username"].get<std::string>();
  }
  if (entry.contains("password") && entry["password"].is_string()) {
    credentials.password = entry["password"].get<std::string>();
  }
  return credentials;
}

}  // namespace

common::Result<std::optional<RegistryCredentials>> credentialsFor(std::string_view dockerConfig,
                                                                  const std::string& registry) {
  const Json config = Json::parse(dockerConfig, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return Status(StatusCode::kInvalidArgument, "not a JSON object");
  const Json& auths = config.contains("auths") ? config["auths"] : config;
  if (!auths.is_object()) return Status(StatusCode::kInvalidArgument, "auths is not an object");
  for (const auto& [key, entry] : auths.items()) {
    if (!sameRegistry(key, registry)) continue;
    auto credentials = entryCredentials(entry);
    if (!credentials) {
      return Status(StatusCode::kInvalidArgument,
                    "the entry for " + registry + ": " + credentials.status().message());
    }
    return std::optional<RegistryCredentials>(std::move(*credentials));
  }
  return std::optional<RegistryCredentials>();
}

common::Result<AuthChallenge> parseAuthChallenge(std::string_view header) {
  AuthChallenge challenge;
  size_t i = 0;
  while (i < header.size() && header[i] == ' ') ++i;
  while (i < header.size() && header[i] != ' ') {
    challenge.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(header[i++])));
  }
  if (challenge.scheme.empty()) return Status(StatusCode::kInvalidArgument, "no scheme");
  // key="value" or key=token, separated by commas.
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    const size_t keyStart = i;
    while (i < header.size() && header[i] != '=' && header[i] != ',') ++i;
    if (i >= header.size() || header[i] != '=') break;
    std::string key(header.substr(keyStart, i - keyStart));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    ++i;
    std::string value;
    if (i < header.size() && header[i] == '"') {
      ++i;
      while (i < header.size() && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i++];
      }
      ++i;  // the closing quote
    } else {
      while (i < header.size() && header[i] != ',') value += header[i++];
    }
    challenge.params[key] = value;
  }
  return challenge;
}

}  // namespace wop::fetch
