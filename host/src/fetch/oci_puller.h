// Pulls a Wasm module from an OCI registry with the distribution API
// (GET /v2/<repository>/manifests/<reference>, GET /v2/<repository>/blobs/<digest>), as
// Kubewarden, Spin and wasmCloud publish them: an image manifest with one layer of media type
// application/wasm (the CNCF Wasm OCI artifact layout, config application/vnd.wasm.config.v0+json)
// or application/vnd.wasm.content.layer.v1+wasm (the older layout, config ...v1+json).
//
// A tag is resolved to the manifest's digest (the sha256 of the bytes served); a reference
// with a digest is checked against it, and the layer against its own. Authentication: none,
// Basic, or the Bearer token flow, with the credentials given (from image pull Secrets), which
// go with the first request as Basic (a registry that wants a token answers 401 anyway), so a
// Basic registry costs no challenge round trip.
#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/status.h"
#include "fetch/https_client.h"
#include "fetch/oci_reference.h"
#include "fetch/registry_auth.h"

namespace wop::fetch {

struct ResolvedManifest {
  std::string manifestDigest;  // sha256:<hex> of the manifest's bytes
  std::string layerDigest;     // sha256:<hex> of the Wasm layer
  uint64_t layerSize = 0;
};

// Reads a manifest (its bytes) and finds its Wasm layer; errors say what it holds instead.
common::Result<ResolvedManifest> wasmLayerOf(std::string_view manifest, size_t maxModuleBytes);

class OciPuller {
 public:
  // One puller per pull: its requests share connections (HttpsSession).
  OciPuller(const HttpsClient& https, size_t maxModuleBytes)
      : https_(https), maxModuleBytes_(maxModuleBytes) {}

  // The manifest the reference names, and its Wasm layer.
  common::Result<ResolvedManifest> resolve(const OciReference& reference,
                                           const std::optional<RegistryCredentials>& credentials,
                                           std::stop_token stop = {});
  // The layer's bytes, checked against its digest and size.
  common::Result<std::vector<uint8_t>> pullLayer(const OciReference& reference,
                                                 const ResolvedManifest& manifest,
                                                 std::stop_token stop = {});

 private:
  // GETs path on the reference's registry, answering one auth challenge if there is one.
  common::Result<HttpsReply> get(const OciReference& reference, const std::string& path,
                                 std::vector<std::string> headers, size_t maxBytes,
                                 std::stop_token stop);
  common::Status authorize(const OciReference& reference, const HttpsReply& challenged,
                           std::stop_token stop);

  HttpsSession https_;
  const size_t maxModuleBytes_;
  std::optional<RegistryCredentials> credentials_;
  std::string authorization_;  // the header that answered the registry's challenge, if any
};

}  // namespace wop::fetch
