// Registry credentials and challenges, as Docker clients and the kubelet read them:
//
//  - image pull Secrets: kubernetes.io/dockerconfigjson ({"auths": {"host": {...}}}) or the
//    older kubernetes.io/dockercfg ({"host": {...}}); an entry has "auth" (base64 of
//    user:password) or "username" and "password"; keys may carry a scheme and path
//    ("https://index.docker.io/v1/");
//  - WWW-Authenticate challenges: Basic, or Bearer with realm, service and scope (the token
//    flow of the distribution spec).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wop::fetch {

struct RegistryCredentials {
  std::string username;
  std::string password;
};

// The credentials a docker config (the Secret's decoded value) holds for registry (host[:port];
// docker.io also matches index.docker.io and registry-1.docker.io). nullopt when it holds none
// for it; an error when the config is not such JSON.
common::Result<std::optional<RegistryCredentials>> credentialsFor(std::string_view dockerConfig,
                                                                  const std::string& registry);

struct AuthChallenge {
  std::string scheme;                         // lower case: "basic", "bearer"
  std::map<std::string, std::string> params;  // realm, service, scope, ...
};

// Parses one WWW-Authenticate header value (the first challenge in it).
common::Result<AuthChallenge> parseAuthChallenge(std::string_view header);

}  // namespace wop::fetch
