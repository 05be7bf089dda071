#include "fetch/oci_puller.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_fields.h"
#include "common/sha256.h"
#include "kube/request.h"

namespace wop::fetch {

using common::Status;
using common::StatusCode;
using Json = nlohmann::json;

namespace {

constexpr size_t kMaxManifestBytes = 4u << 20;  // the distribution spec's suggested limit
constexpr size_t kMaxTokenBytes = 1u << 20;

constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.index.v1+json";

bool isWasmLayer(const std::string& mediaType) {
  return mediaType == "application/wasm" ||
         mediaType == "application/vnd.wasm.content.layer.v1+wasm" ||
         mediaType == "application/vnd.module.wasm.content.layer.v1+wasm";
}

bool isSha256Digest(const std::string& digest) {
  return digest.starts_with("sha256:") && common::isSha256Hex(std::string_view(digest).substr(7));
}

std::string preview(const std::string& body) {
  std::string out = body.substr(0, 160);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

Status httpError(const std::string& what, const HttpsReply& reply) {
  if (reply.status == 404) return Status(StatusCode::kNotFound, what + ": not found (404)");
  if (reply.status == 401 || reply.status == 403) {
    return Status(StatusCode::kFailedPrecondition,
                  what + ": denied (" + std::to_string(reply.status) +
                      "); give imagePullSecrets with access to it");
  }
  return Status(StatusCode::kUnavailable,
                what + ": HTTP " + std::to_string(reply.status) +
                    (reply.body.empty() ? "" : ": " + preview(reply.body)));
}

}  // namespace

common::Result<ResolvedManifest> wasmLayerOf(std::string_view manifest, size_t maxModuleBytes) {
  const Json doc = Json::parse(manifest, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Status(StatusCode::kInvalidArgument, "the manifest is not JSON");
  const std::string mediaType = common::stringField(doc, "mediaType");
  if (mediaType.find("index") != std::string::npos || mediaType.find("list") != std::string::npos ||
      doc.contains("manifests")) {
    return Status(StatusCode::kInvalidArgument,
                  "the reference names an image index, not a Wasm artifact: name its Wasm "
                  "manifest by digest");
  }
  if (!doc.contains("layers") || !doc["layers"].is_array()) {
    return Status(StatusCode::kInvalidArgument, "the manifest has no layers");
  }
  const Json* wasm = nullptr;
  std::string seen;
  for (const Json& layer : doc["layers"]) {
    const std::string type = common::stringField(layer, "mediaType");
    if (isWasmLayer(type)) {
      if (wasm)
        return Status(StatusCode::kInvalidArgument, "the manifest has more than one Wasm layer");
      wasm = &layer;
    }
    if (!seen.empty()) seen += ", ";
    seen += type.substr(0, 100);
  }
  if (!wasm) {
    return Status(StatusCode::kInvalidArgument,
                  "not a Wasm artifact: no layer of media type application/wasm or "
                  "application/vnd.wasm.content.layer.v1+wasm (layers: " +
                      (seen.empty() ? "none" : seen) + ")");
  }
  ResolvedManifest resolved;
  resolved.layerDigest = common::stringField(*wasm, "digest");
  if (!isSha256Digest(resolved.layerDigest)) {
    return Status(StatusCode::kInvalidArgument, "the Wasm layer's digest is not sha256:<hex>");
  }
  if (!wasm->contains("size") || !(*wasm)["size"].is_number_unsigned()) {
    return Status(StatusCode::kInvalidArgument, "the Wasm layer has no size");
  }
  resolved.layerSize = (*wasm)["size"].get<uint64_t>();
  if (resolved.layerSize > maxModuleBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "the module is " + std::to_string(resolved.layerSize) +
                      " bytes, above the limit of " + std::to_string(maxModuleBytes));
  }
  return resolved;
}

common::Result<HttpsReply> OciPuller::get(const OciReference& reference, const std::string& path,
                                          std::vector<std::string> headers, size_t maxBytes,
                                          std::stop_token stop) {
  const std::string url = "https://" + reference.apiHost() + "/v2/" + reference.repository + path;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<std::string> sent = headers;
    if (!authorization_.empty()) sent.push_back(authorization_);
    auto reply = https_.get(url, sent, maxBytes, stop);
    if (!reply || reply->status != 401 || attempt == 1) return reply;
    if (auto authorized = authorize(reference, *reply, stop); !authorized.isOk()) return authorized;
  }
  return Status(StatusCode::kInternal, "unreachable");
}

Status OciPuller::authorize(const OciReference& reference, const HttpsReply& challenged,
                            std::stop_token stop) {
  const auto header = challenged.headers.find("www-authenticate");
  if (header == challenged.headers.end()) {
    return Status(StatusCode::kFailedPrecondition,
                  reference.registry + " answered 401 without a challenge");
  }
  auto challenge = parseAuthChallenge(header->second);
  if (!challenge) return challenge.status();
  const std::string basic =
      credentials_
          ? "Basic " + common::base64Encode(credentials_->username + ":" + credentials_->password)
          : "";
  if (challenge->scheme == "basic") {
    if (!credentials_) {
      return Status(StatusCode::kFailedPrecondition,
                    reference.registry + " needs credentials: give imagePullSecrets");
    }
    authorization_ = "Authorization: " + basic;
    return Status::ok();
  }
  if (challenge->scheme != "bearer") {
    return Status(StatusCode::kFailedPrecondition, reference.registry + " asks for " +
                                                       challenge->scheme.substr(0, 20) +
                                                       " authentication, which is not supported");
  }
  const std::string realm = challenge->params["realm"];
  if (!realm.starts_with("https://")) {
    return Status(StatusCode::kFailedPrecondition,
                  reference.registry + "'s token realm is not https://");
  }
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  url += "scope=" + kube::urlEncode("repository:" + reference.repository + ":pull");
  if (challenge->params.contains("service")) {
    url += "&service=" + kube::urlEncode(challenge->params["service"]);
  }
  std::vector<std::string> headers;
  if (credentials_) headers.push_back("Authorization: " + basic);
  auto reply = https_.get(url, headers, kMaxTokenBytes, stop);
  if (!reply) return reply.status();
  if (reply->status != 200) return httpError(reference.registry + "'s token service", *reply);
  const Json token = Json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  const std::string value =
      common::stringField(token, "token", common::stringField(token, "access_token"));
  if (value.empty() || value.find_first_of("\r\n") != std::string::npos) {
    return Status(StatusCode::kUnavailable, reference.registry + "'s token service sent no token");
  }
  authorization_ = "Authorization: Bearer " + value;
  return Status::ok();
}

common::Result<ResolvedManifest> OciPuller::resolve(
    const OciReference& reference, const std::optional<RegistryCredentials>& credentials,
    std::stop_token stop) {
  credentials_ = credentials;
  authorization_ =
      credentials ? "Authorization: Basic " +
                        common::base64Encode(credentials->username + ":" + credentials->password)
                  : "";
  const std::string what = "manifest of " + reference.toString();
  auto reply =
      get(reference, "/manifests/" + (reference.digest.empty() ? reference.tag : reference.digest),
          {kManifestAccept}, kMaxManifestBytes, stop);
  if (!reply) return Status(reply.status().code(), what + ": " + reply.status().message());
  if (reply->status != 200) return httpError(what, *reply);
  const std::string digest = "sha256:" + common::sha256Hex(reply->body);
  if (!reference.digest.empty() && digest != reference.digest) {
    return Status(StatusCode::kDataLoss,
                  what + ": the registry served a manifest whose digest is " + digest);
  }
  auto resolved = wasmLayerOf(reply->body, maxModuleBytes_);
  if (!resolved)
    return Status(resolved.status().code(),
                  reference.toString() + ": " + resolved.status().message());
  resolved->manifestDigest = digest;
  return resolved;
}

common::Result<std::vector<uint8_t>> OciPuller::pullLayer(const OciReference& reference,
                                                          const ResolvedManifest& manifest,
                                                          std::stop_token stop) {
  const std::string what = "the Wasm layer of " + reference.toString();
  auto reply = get(reference, "/blobs/" + manifest.layerDigest, {}, manifest.layerSize, stop);
  if (!reply) return Status(reply.status().code(), what + ": " + reply.status().message());
  if (reply->status != 200) return httpError(what, *reply);
  const std::string digest = "sha256:" + common::sha256Hex(reply->body);
  if (digest != manifest.layerDigest) {
    return Status(StatusCode::kDataLoss, what + ": the registry served bytes whose digest is " +
                                             digest + ", not " + manifest.layerDigest);
  }
  return std::vector<uint8_t>(reply->body.begin(), reply->body.end());
}

}  // namespace wop::fetch
