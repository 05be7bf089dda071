// OCI image references as Docker and the distribution spec write them:
//
//   [registry[:port]/]repository[:tag][@sha256:<hex>]
//
// The first component is the registry when it has a dot or a port or is "localhost" (else
// Docker Hub, whose one-component repositories are under library/). Without tag or digest
// the tag is "latest". Everything is checked against the grammar before it reaches a URL.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace wop::fetch {

struct OciReference {
  std::string registry;    // host[:port] as written (docker.io for Docker Hub)
  std::string repository;  // lower case, slash-separated
  std::string tag;         // empty when only a digest is given
  std::string digest;      // "sha256:<hex>" or empty

  // The host the distribution API is served from (registry-1.docker.io for docker.io).
  std::string apiHost() const;
  // registry/repository:tag@digest, with the parts that are set.
  std::string toString() const;
  // registry/repository@digest: this reference pinned to a manifest digest.
  std::string pinnedTo(const std::string& manifestDigest) const;
};

common::Result<OciReference> parseOciReference(std::string_view text);

}  // namespace wop::fetch
