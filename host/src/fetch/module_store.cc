#include "fetch/module_store.h"

#include <sys/stat.h>

#include <filesystem>

#include "common/file.h"
#include "common/limits.h"
#include "common/sha256.h"

namespace wop::fetch {

using common::Status;
using common::StatusCode;

ModuleStore::ModuleStore(std::string directory) : directory_(std::move(directory)) {
  for (const char* sub : {"", "/sha256", "/oci"}) {
    const std::string folder = directory_ + sub;
    std::error_code error;
    if (std::filesystem::create_directories(folder, error)) ::chmod(folder.c_str(), 0700);
  }
}

std::string ModuleStore::modulePath(const std::string& sha256) const {
  return directory_ + "/sha256/" + sha256 + ".wasm";
}

std::optional<std::string> ModuleStore::find(const std::string& sha256) const {
  if (!common::isSha256Hex(sha256)) return std::nullopt;
  const std::string path = modulePath(sha256);
  auto bytes = common::readFileBytes(path, limits::kMaxModuleBytes);
  // Hashing costs ~2 ms per MiB; a module is loaded rarely, and a damaged file must not be run.
  if (!bytes || common::sha256Hex(*bytes) != sha256) return std::nullopt;
  return path;
}

common::Result<std::string> ModuleStore::put(std::span<const uint8_t> bytes) {
  const std::string path = modulePath(common::sha256Hex(bytes));
  if (auto written = common::writeFileAtomically(path, bytes); !written.isOk()) return written;
  return path;
}

std::optional<std::string> ModuleStore::moduleOfManifest(const std::string& manifestSha256) const {
  if (!common::isSha256Hex(manifestSha256)) return std::nullopt;
  auto bytes = common::readFileBytes(directory_ + "/oci/" + manifestSha256, 64);
  if (!bytes) return std::nullopt;
  std::string module(bytes->begin(), bytes->end());
  if (!common::isSha256Hex(module)) return std::nullopt;
  return module;
}

Status ModuleStore::rememberManifest(const std::string& manifestSha256,
                                     const std::string& moduleSha256) {
  if (!common::isSha256Hex(manifestSha256) || !common::isSha256Hex(moduleSha256)) {
    return Status(StatusCode::kInvalidArgument, "not sha256 digests");
  }
  return common::writeFileAtomically(
      directory_ + "/oci/" + manifestSha256,
      {reinterpret_cast<const uint8_t*>(moduleSha256.data()), moduleSha256.size()});
}

}  // namespace wop::fetch
