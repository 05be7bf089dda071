// The credentials a request carries, which may change over time: a static token or client
// certificate, a token file that is re-read when it changes, or an exec plugin whose output is
// cached until its expirationTimestamp.
//
// Thread-safety: a CredentialSource may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kube/kubeconfig.h"

namespace wop::kube {

struct Credentials {
  std::string bearerToken;  // empty: none
  std::string clientCertPem;
  std::string clientKeyPem;
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // Current credentials; may run an exec plugin or read a file.
  virtual common::Result<Credentials> get() = 0;
  // The server answered 401: drop any cache so the next get() fetches anew.
  virtual void invalidate() = 0;
};

// Picks the source the config implies: exec plugin, token file, or static.
std::unique_ptr<CredentialSource> makeCredentialSource(const ClientConfig& config,
                                                       common::Clock& clock);

}  // namespace wop::kube
