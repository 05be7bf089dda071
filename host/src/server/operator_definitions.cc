#include "server/operator_definitions.h"

#include <algorithm>
#include <filesystem>

#include "common/file.h"
#include "common/json_fields.h"
#include "common/limits.h"
#include "common/sha256.h"
#include "common/yaml.h"
#include "fetch/oci_reference.h"
#include "outbound/allowed_hosts.h"

namespace wop::server {
namespace {

using common::Status;
using common::StatusCode;
using Json = nlohmann::json;

constexpr int64_t kMaxSwapIdleMs = 86'400'000;  // a day
constexpr uint64_t kMaxMemoryMiB = 4096;
constexpr int64_t kMaxEntryTimeoutMs = 60'000;

Status invalid(const std::string& where, const std::string& what) {
  return Status(StatusCode::kInvalidArgument, where + ": " + what);
}

bool isString(const Json& object, const char* key) {
  return object.contains(key) && object[key].is_string() && !object[key].get<std::string>().empty();
}

// spec.module: exactly one source, as the CRD's rule says, and its pin.
Status parseModule(const Json& body, const std::string& named, const std::filesystem::path& folder,
                   WasmOperatorDefinition& definition) {
  if (!body.contains("module")) return invalid(named, "spec.module is required");
  const Json& module = body["module"];
  if (!module.is_object()) {
    return invalid(named, "spec.module must be a mapping with one source (e.g. {path: op.wasm})");
  }
  const char* sources[] = {"image", "configMapRef", "url", "path"};
  const auto given = std::count_if(std::begin(sources), std::end(sources),
                                   [&](const char* s) { return module.contains(s); });
  if (given != 1) {
    return invalid(named, "spec.module needs exactly one of image, configMapRef, url or path");
  }
  fetch::ModuleSource& source = definition.module;
  if (module.contains("sha256")) {
    if (!module["sha256"].is_string() ||
        !common::isSha256Hex(module["sha256"].get<std::string>())) {
      return invalid(named, "spec.module.sha256 must be 64 lower-case hex digits");
    }
    source.sha256 = module["sha256"].get<std::string>();
    definition.spec.moduleSha256 = source.sha256;
  }
  if (module.contains("image")) {
    if (!isString(module, "image")) return invalid(named, "spec.module.image must be a reference");
    auto reference = fetch::parseOciReference(module["image"].get<std::string>());
    if (!reference) return invalid(named, "spec.module." + reference.status().message());
    source.image = module["image"].get<std::string>();
    if (module.contains("imagePullSecrets")) {
      const Json& secrets = module["imagePullSecrets"];
      if (!secrets.is_array() || secrets.size() > 16) {
        return invalid(named,
                       "spec.module.imagePullSecrets must be a list of at most 16 {name: S}");
      }
      for (const Json& secret : secrets) {
        if (!secret.is_object() || !isString(secret, "name")) {
          return invalid(named, "spec.module.imagePullSecrets items must be {name: SECRET}");
        }
        source.imagePullSecrets.push_back(secret["name"].get<std::string>());
      }
    }
    return Status::ok();
  }
  if (module.contains("configMapRef")) {
    const Json& ref = module["configMapRef"];
    if (!ref.is_object() || !isString(ref, "namespace") || !isString(ref, "name") ||
        !isString(ref, "key")) {
      return invalid(named, "spec.module.configMapRef must be {namespace: NS, name: N, key: K}");
    }
    source.configMap = {ref["namespace"].get<std::string>(), ref["name"].get<std::string>(),
                        ref["key"].get<std::string>()};
    return Status::ok();
  }
  if (module.contains("url")) {
    if (!isString(module, "url") || !module["url"].get<std::string>().starts_with("https://")) {
      return invalid(named, "spec.module.url must be an https:// address");
    }
    if (source.sha256.empty()) return invalid(named, "a module from a url needs its sha256");
    source.url = module["url"].get<std::string>();
    return Status::ok();
  }
  if (!isString(module, "path")) return invalid(named, "spec.module.path must be a file name");
  const std::filesystem::path path = module["path"].get<std::string>();
  source.path = path.is_absolute() ? path.string() : (folder / path).lexically_normal().string();
  definition.spec.modulePath = source.path;
  return Status::ok();
}

// Who the operator acts as. Fails closed: without a ServiceAccount it is refused unless it is
// explicitly trusted, and then it acts as the host.
Status parseIdentity(const Json& body, const std::string& named, runtime::OperatorSpec& spec) {
  if (body.contains("trusted")) {
    if (!body["trusted"].is_boolean()) return invalid(named, "spec.trusted must be true or false");
    spec.trusted = body["trusted"].get<bool>();
  }
  if (!body.contains("serviceAccount")) {
    if (spec.trusted) return Status::ok();
    return invalid(named,
                   "spec.serviceAccount is required unless spec.trusted is true (a trusted "
                   "operator acts as the host)");
  }
  if (spec.trusted) {
    return invalid(named, "a trusted operator acts as the host: leave spec.serviceAccount out");
  }
  const Json& account = body["serviceAccount"];
  auto part = [&](const char* key) {
    return account.is_object() && account.contains(key) && account[key].is_string()
               ? account[key].get<std::string>()
               : std::string();
  };
  spec.serviceAccountNamespace = part("namespace");
  spec.serviceAccountName = part("name");
  if (spec.serviceAccountNamespace.empty() || spec.serviceAccountName.empty()) {
    return invalid(named, "spec.serviceAccount must be {namespace: NS, name: NAME}");
  }
  return Status::ok();
}

}  // namespace

common::Result<WasmOperatorDefinition> parseWasmOperator(const Json& doc, const std::string& where,
                                                         const std::filesystem::path& folder) {
  if (!doc.is_object()) return invalid(where, "is not a mapping");
  if (common::stringField(doc, "kind") != "WasmOperator")
    return invalid(where, "kind must be WasmOperator");
  WasmOperatorDefinition definition;
  runtime::OperatorSpec& spec = definition.spec;
  if (!doc.contains("metadata") || !doc["metadata"].is_object() ||
      !doc["metadata"].contains("name") || !doc["metadata"]["name"].is_string()) {
    return invalid(where, "metadata.name is required");
  }
  spec.name = doc["metadata"]["name"].get<std::string>();
  const std::string named = where + " (" + spec.name + ")";
  if (!doc.contains("spec") || !doc["spec"].is_object()) return invalid(named, "spec is required");
  const Json& body = doc["spec"];
  if (auto module = parseModule(body, named, folder, definition); !module.isOk()) return module;
  if (auto identity = parseIdentity(body, named, spec); !identity.isOk()) return identity;
  if (body.contains("config")) {
    if (!body["config"].is_object()) return invalid(named, "spec.config must be a mapping");
    spec.configJson = body["config"].dump();
  }
  if (body.contains("limits")) {
    const Json& limits = body["limits"];
    if (!limits.is_object()) return invalid(named, "spec.limits must be a mapping");
    if (limits.contains("memoryMiB")) {
      if (!limits["memoryMiB"].is_number_integer() || limits["memoryMiB"].get<int64_t>() < 1 ||
          limits["memoryMiB"].get<uint64_t>() > kMaxMemoryMiB) {
        return invalid(named, "spec.limits.memoryMiB must be an integer from 1 to 4096");
      }
      spec.maxMemoryBytes = limits["memoryMiB"].get<uint64_t>() << 20;
    }
    if (limits.contains("entryTimeoutMs")) {
      if (!limits["entryTimeoutMs"].is_number_integer() ||
          limits["entryTimeoutMs"].get<int64_t>() < 1 ||
          limits["entryTimeoutMs"].get<int64_t>() > kMaxEntryTimeoutMs) {
        return invalid(named, "spec.limits.entryTimeoutMs must be an integer from 1 to 60000");
      }
      spec.entryTimeout = std::chrono::milliseconds(limits["entryTimeoutMs"].get<int64_t>());
    }
  }
  if (body.contains("allowedHosts")) {
    const Json& hosts = body["allowedHosts"];
    if (!hosts.is_array() || hosts.size() > outbound::kMaxAllowedHosts) {
      return invalid(named, "spec.allowedHosts must be a list of at most " +
                                std::to_string(outbound::kMaxAllowedHosts) +
                                " entries like https://api.example.com");
    }
    for (const Json& host : hosts) {
      if (!host.is_string()) return invalid(named, "spec.allowedHosts items must be strings");
      spec.allowedHosts.push_back(host.get<std::string>());
    }
    if (auto parsed = outbound::AllowedHosts::parse(spec.allowedHosts); !parsed) {
      return invalid(named, "spec." + parsed.status().message());
    }
  }
  if (body.contains("swap")) {
    const Json& swap = body["swap"];
    if (!swap.is_object()) return invalid(named, "spec.swap must be a mapping");
    if (swap.contains("enabled")) {
      if (!swap["enabled"].is_boolean())
        return invalid(named, "spec.swap.enabled must be true or false");
      spec.swap = swap["enabled"].get<bool>();
    }
    if (swap.contains("idleAfterMs")) {
      if (!swap["idleAfterMs"].is_number_integer() || swap["idleAfterMs"].get<int64_t>() < 0 ||
          swap["idleAfterMs"].get<int64_t>() > kMaxSwapIdleMs) {
        return invalid(named, "spec.swap.idleAfterMs must be an integer from 0 to 86400000");
      }
      spec.swapIdleAfter = std::chrono::milliseconds(swap["idleAfterMs"].get<int64_t>());
    }
  }
  return definition;
}

common::Result<std::vector<runtime::OperatorSpec>> parseOperatorDefinitions(
    const std::string& yaml, const std::string& path) {
  auto documents = common::parseYamlDocuments(yaml, path);
  if (!documents) return documents.status();
  const auto folder = std::filesystem::path(path).parent_path();
  std::vector<runtime::OperatorSpec> specs;
  for (size_t i = 0; i < documents->size(); ++i) {
    const std::string where = path + ": document " + std::to_string(i + 1);
    auto definition = parseWasmOperator((*documents)[i], where, folder);
    if (!definition) return definition.status();
    if (!definition->module.isPath()) {
      return invalid(where + " (" + definition->spec.name + ")",
                     "spec.module: the file mode runs modules from paths only; "
                     "`wasm-operator run` without --operators fetches " +
                         definition->module.describe());
    }
    specs.push_back(std::move(definition->spec));
  }
  return specs;
}

common::Result<std::vector<runtime::OperatorSpec>> loadOperatorDefinitions(
    const std::string& path) {
  std::error_code error;
  std::vector<std::string> files;
  if (std::filesystem::is_directory(path, error)) {
    for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
      const auto extension = entry.path().extension();
      if (extension == ".yaml" || extension == ".yml") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return Status(StatusCode::kNotFound, path + ": no .yaml files");
  } else {
    files.push_back(path);
  }
  std::vector<runtime::OperatorSpec> all;
  for (const auto& file : files) {
    auto bytes = common::readFileBytes(file, limits::kMaxKubeconfigBytes);
    if (!bytes) return bytes.status();
    auto specs = parseOperatorDefinitions(std::string(bytes->begin(), bytes->end()), file);
    if (!specs) return specs.status();
    for (auto& spec : *specs) {
      for (const auto& existing : all) {
        if (existing.name == spec.name)
          return Status(StatusCode::kInvalidArgument,
                        file + ": operator " + spec.name + " is defined twice");
      }
      all.push_back(std::move(spec));
    }
  }
  return all;
}

}  // namespace wop::server
