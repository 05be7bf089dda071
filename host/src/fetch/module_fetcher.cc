#include "fetch/module_fetcher.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "common/base64.h"
#include "common/sha256.h"
#include "fetch/oci_puller.h"
#include "kube/request.h"

namespace wop::fetch {

using common::Status;
using common::StatusCode;
using Json = nlohmann::json;

namespace {

const kube::ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
const kube::ResourceInfo kSecrets{{"", "v1", "secrets"}, "Secret", true};

// Which lane a fetch waits in: one per registry or URL host, one for the API server.
std::string laneOf(const ModuleSource& source) {
  if (source.isImage()) {
    auto reference = parseOciReference(source.image);
    return "registry " + (reference ? reference->registry : source.image);
  }
  if (source.isUrl()) {
    const std::string rest = source.url.substr(source.url.find("://") + 3);
    return "url " + rest.substr(0, rest.find('/'));
  }
  return "api server";
}

Status apiFailure(const std::string& what, const kube::ApiError& error) {
  switch (error.reason) {
    case kube::ApiReason::kNotFound:
      return Status(StatusCode::kNotFound, what + ": not found");
    case kube::ApiReason::kForbidden:
      return Status(
          StatusCode::kFailedPrecondition,
          what + ": the operator's ServiceAccount may not get it (" + error.message + ")");
    default:
      return Status(StatusCode::kUnavailable, what + ": " + error.toString());
  }
}

}  // namespace

ModuleFetcher::ModuleFetcher(kube::Client& client, ModuleStore& store, const HttpsClient& https,
                             size_t maxModuleBytes)
    : client_(client), store_(store), https_(https), maxModuleBytes_(maxModuleBytes) {}

ModuleFetcher::~ModuleFetcher() {
  stop_.request_stop();
  std::unique_lock lock(mutex_);
  waiting_.clear();
  idle_.wait(lock, [this] { return running_ == 0; });
}

std::optional<FetchedModule> ModuleFetcher::cached(const FetchRequest& request) const {
  const ModuleSource& source = request.source;
  if (source.isImage()) {
    auto reference = parseOciReference(source.image);
    if (!reference) return std::nullopt;
    std::string manifest = reference->digest;
    std::string resolved = manifest.empty() ? "" : reference->pinnedTo(manifest);
    if (manifest.empty() && !request.knownResolvedImage.empty()) {
      auto known = parseOciReference(request.knownResolvedImage);
      if (!known || known->registry != reference->registry ||
          known->repository != reference->repository || known->digest.empty()) {
        return std::nullopt;
      }
      manifest = known->digest;
      resolved = request.knownResolvedImage;
    }
    if (manifest.empty()) return std::nullopt;
    auto module = store_.moduleOfManifest(manifest.substr(7));
    if (!module || (!source.sha256.empty() && *module != source.sha256)) return std::nullopt;
    auto path = store_.find(*module);
    if (!path) return std::nullopt;
    return FetchedModule{.path = *path, .sha256 = *module, .resolvedImage = resolved};
  }
  if (source.sha256.empty()) return std::nullopt;  // a ConfigMap's content may have changed
  auto path = store_.find(source.sha256);
  if (!path) return std::nullopt;
  return FetchedModule{.path = *path, .sha256 = source.sha256, .resolvedImage = ""};
}

void ModuleFetcher::fetch(FetchRequest request,
                          std::function<void(common::Result<FetchedModule>)> done) {
  std::lock_guard lock(mutex_);
  if (stop_.stop_requested()) return;
  waiting_.push_back(Job{laneOf(request.source), std::move(request), std::move(done)});
  startReady();
}

void ModuleFetcher::startReady() {
  for (auto it = waiting_.begin(); it != waiting_.end() && running_ < kTotal;) {
    if (runningPerLane_[it->lane] >= kPerSource) {
      ++it;
      continue;
    }
    ++runningPerLane_[it->lane];
    ++running_;
    std::thread([this, job = std::move(*it)]() mutable { run(std::move(job)); }).detach();
    it = waiting_.erase(it);
  }
}

void ModuleFetcher::run(Job job) {
  // The error boundary of a fetch thread: nothing it throws may end the host.
  common::Result<FetchedModule> result = Status(StatusCode::kInternal, "not fetched");
  try {
    result = fetchNow(job.request, stop_.get_token());
  } catch (const std::exception& e) {
    result = Status(StatusCode::kInternal, std::string("fetching the module: ") + e.what());
  }
  if (!stop_.stop_requested()) {
    try {
      job.done(std::move(result));
    } catch (...) {
    }
  }
  std::lock_guard lock(mutex_);
  --runningPerLane_[job.lane];
  --running_;
  if (!stop_.stop_requested()) startReady();
  idle_.notify_all();
}

common::Result<FetchedModule> ModuleFetcher::fetchNow(const FetchRequest& request,
                                                      std::stop_token stop) {
  if (auto hit = cached(request)) return *hit;
  const ModuleSource& source = request.source;
  if (source.isImage()) return fromImage(request, stop);
  if (source.isConfigMap()) return fromConfigMap(request);
  if (source.isUrl()) return fromUrl(request, stop);
  return Status(StatusCode::kInvalidArgument, "a module from a path is not fetched");
}

common::Result<FetchedModule> ModuleFetcher::stored(std::span<const uint8_t> bytes,
                                                    const std::string& pinned,
                                                    const std::string& what) {
  const std::string digest = common::sha256Hex(bytes);
  if (!pinned.empty() && digest != pinned) {
    return Status(StatusCode::kDataLoss,
                  what + ": its sha256 is " + digest + ", not the " + pinned + " spec.module pins");
  }
  auto path = store_.put(bytes);
  if (!path) return path.status();
  return FetchedModule{.path = *path, .sha256 = digest, .resolvedImage = ""};
}

common::Result<std::optional<RegistryCredentials>> ModuleFetcher::pullCredentials(
    const FetchRequest& request, const std::string& registry) {
  for (const auto& name : request.source.imagePullSecrets) {
    const std::string what = "imagePullSecret " + request.secretsNamespace + "/" + name;
    auto secret = client_.execute(kube::getRequest(kSecrets, request.secretsNamespace, name),
                                  request.identity);
    if (!secret) return apiFailure(what, secret.error());
    const Json object = Json::parse(secret->body, nullptr, /*allow_exceptions=*/false);
    const Json data = object.is_object() ? object.value("data", Json::object()) : Json::object();
    std::string encoded;
    for (const char* key : {".dockerconfigjson", ".dockercfg"}) {
      if (data.is_object() && data.contains(key) && data[key].is_string()) {
        encoded = data[key].get<std::string>();
        break;
      }
    }
    if (encoded.empty()) {
      return Status(StatusCode::kInvalidArgument,
                    what + ": not of type kubernetes.io/dockerconfigjson (no .dockerconfigjson)");
    }
    auto config = common::base64Decode(encoded);
    if (!config) return Status(StatusCode::kInvalidArgument, what + ": its value is not base64");
    auto credentials = credentialsFor(*config, registry);
    if (!credentials) {
      return Status(StatusCode::kInvalidArgument, what + ": " + credentials.status().message());
    }
    if (*credentials) return credentials;
  }
  return std::optional<RegistryCredentials>();
}

common::Result<FetchedModule> ModuleFetcher::fromImage(const FetchRequest& request,
                                                       std::stop_token stop) {
  auto reference = parseOciReference(request.source.image);
  if (!reference) return reference.status();
  auto credentials = pullCredentials(request, reference->registry);
  if (!credentials) return credentials.status();
  OciPuller puller(https_, maxModuleBytes_);
  auto manifest = puller.resolve(*reference, *credentials, stop);
  if (!manifest) return manifest.status();
  const std::string moduleDigest = manifest->layerDigest.substr(7);
  const std::string resolved = reference->pinnedTo(manifest->manifestDigest);
  if (!request.source.sha256.empty() && moduleDigest != request.source.sha256) {
    return Status(StatusCode::kDataLoss, reference->toString() + ": its Wasm layer's sha256 is " +
                                             moduleDigest + ", not the " + request.source.sha256 +
                                             " spec.module pins");
  }
  FetchedModule module;
  if (auto path = store_.find(moduleDigest)) {
    module = FetchedModule{.path = *path, .sha256 = moduleDigest, .resolvedImage = ""};
  } else {
    auto bytes = puller.pullLayer(*reference, *manifest, stop);
    if (!bytes) return bytes.status();
    auto put = stored(*bytes, moduleDigest, reference->toString());
    if (!put) return put.status();
    module = *put;
  }
  module.resolvedImage = resolved;
  // A failure here only costs a registry request on the next restart.
  (void)store_.rememberManifest(manifest->manifestDigest.substr(7), moduleDigest);
  return module;
}

common::Result<FetchedModule> ModuleFetcher::fromConfigMap(const FetchRequest& request) {
  const ConfigMapKey& ref = request.source.configMap;
  const std::string what = "ConfigMap " + ref.ns + "/" + ref.name;
  auto reply = client_.execute(kube::getRequest(kConfigMaps, ref.ns, ref.name), request.identity);
  if (!reply) {
    auto failure = apiFailure(what, reply.error());
    if (failure.code() != StatusCode::kNotFound) return failure;
    return Status(StatusCode::kNotFound,
                  failure.message() +
                      " (a ConfigMap holds at most 1 MiB: a larger module needs image or url)");
  }
  const Json object = Json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  const Json binary = object.is_object() ? object.value("binaryData", Json::object()) : Json();
  if (!binary.is_object() || !binary.contains(ref.key) || !binary[ref.key].is_string()) {
    const Json text = object.is_object() ? object.value("data", Json::object()) : Json();
    const bool inData = text.is_object() && text.contains(ref.key);
    return Status(StatusCode::kNotFound,
                  what + ": no binaryData key \"" + ref.key.substr(0, 253) + "\"" +
                      (inData ? " (it is in data: a module goes in binaryData)" : ""));
  }
  auto bytes = common::base64Decode(binary[ref.key].get<std::string>());
  if (!bytes) return Status(StatusCode::kInvalidArgument, what + ": binaryData is not base64");
  if (bytes->size() > maxModuleBytes_) {
    return Status(StatusCode::kResourceExhausted, what + ": the module is above the limit");
  }
  return stored({reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()},
                request.source.sha256, what + " key " + ref.key);
}

common::Result<FetchedModule> ModuleFetcher::fromUrl(const FetchRequest& request,
                                                     std::stop_token stop) {
  const std::string& url = request.source.url;
  if (request.source.sha256.empty()) {
    return Status(StatusCode::kInvalidArgument, "a module from a url needs spec.module.sha256");
  }
  auto reply = https_.get(url, {}, maxModuleBytes_, stop);
  if (!reply) return reply.status();
  if (reply->status != 200) {
    return Status(reply->status == 404 ? StatusCode::kNotFound : StatusCode::kUnavailable,
                  url + ": HTTP " + std::to_string(reply->status));
  }
  return stored({reinterpret_cast<const uint8_t*>(reply->body.data()), reply->body.size()},
                request.source.sha256, url);
}

}  // namespace wop::fetch
