// Modules fetched from registries, ConfigMaps and URLs, kept on disk by digest so that each is
// downloaded once per host and survives restarts:
//
//   <directory>/sha256/<hex>.wasm      a module, named by the sha256 of its bytes
//   <directory>/oci/<hex>              an OCI manifest's digest -> its module's digest
//
// The folder is private to the host (0700): a module named here is loaded without fetching
// again, so nobody else may write it. A file whose bytes no longer hash to its name is not
// trusted (find checks it).
//
// Thread-safety: every member may be called concurrently (writes are atomic renames).
#pragma once

#include <optional>
#include <span>
#include <string>

#include "common/status.h"

namespace wop::fetch {

class ModuleStore {
 public:
  explicit ModuleStore(std::string directory);

  // The path of the module with this digest (hex) if the store has it intact.
  std::optional<std::string> find(const std::string& sha256) const;
  // Stores bytes under their digest; returns the path.
  common::Result<std::string> put(std::span<const uint8_t> bytes);

  // What an OCI manifest (by its digest, hex) was found to hold: the module's digest.
  std::optional<std::string> moduleOfManifest(const std::string& manifestSha256) const;
  common::Status rememberManifest(const std::string& manifestSha256,
                                  const std::string& moduleSha256);

  const std::string& directory() const { return directory_; }

 private:
  std::string modulePath(const std::string& sha256) const;

  std::string directory_;
};

}  // namespace wop::fetch
