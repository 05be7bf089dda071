#include "server/operator_definitions.h"

#include <algorithm>
#include <filesystem>

#include "common/file.h"
#include "common/json_fields.h"
#include "common/limits.h"
#include "common/yaml.h"

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

common::Result<runtime::OperatorSpec> parseOne(const Json& doc, const std::string& where,
                                               const std::filesystem::path& folder) {
  if (!doc.is_object()) return invalid(where, "is not a mapping");
  if (common::stringField(doc, "kind") != "WasmOperator")
    return invalid(where, "kind must be WasmOperator");
  runtime::OperatorSpec spec;
  if (!doc.contains("metadata") || !doc["metadata"].is_object() ||
      !doc["metadata"].contains("name") || !doc["metadata"]["name"].is_string()) {
    return invalid(where, "metadata.name is required");
  }
  spec.name = doc["metadata"]["name"].get<std::string>();
  const std::string named = where + " (" + spec.name + ")";
  if (!doc.contains("spec") || !doc["spec"].is_object()) return invalid(named, "spec is required");
  const Json& body = doc["spec"];
  if (!body.contains("module") || !body["module"].is_string())
    return invalid(named, "spec.module is required");
  std::filesystem::path module = body["module"].get<std::string>();
  spec.modulePath =
      module.is_absolute() ? module.string() : (folder / module).lexically_normal().string();
  if (body.contains("serviceAccount")) {
    if (!body["serviceAccount"].is_string())
      return invalid(named, "spec.serviceAccount must be namespace/name");
    const std::string account = body["serviceAccount"].get<std::string>();
    const auto slash = account.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == account.size()) {
      return invalid(named, "spec.serviceAccount must be namespace/name");
    }
    spec.serviceAccountNamespace = account.substr(0, slash);
    spec.serviceAccountName = account.substr(slash + 1);
  }
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
  return spec;
}

}  // namespace

common::Result<std::vector<runtime::OperatorSpec>> parseOperatorDefinitions(
    const std::string& yaml, const std::string& path) {
  auto documents = common::parseYamlDocuments(yaml, path);
  if (!documents) return documents.status();
  const auto folder = std::filesystem::path(path).parent_path();
  std::vector<runtime::OperatorSpec> specs;
  for (size_t i = 0; i < documents->size(); ++i) {
    auto spec = parseOne((*documents)[i], path + ": document " + std::to_string(i + 1), folder);
    if (!spec) return spec.status();
    specs.push_back(std::move(*spec));
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
