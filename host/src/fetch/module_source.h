// Where a WasmOperator's module comes from (spec.module, deploy/crds/wasmoperators.yaml):
// exactly one of a host file, an OCI artifact, a ConfigMap's binaryData or an HTTPS URL,
// optionally pinned by sha256.
#pragma once

#include <string>
#include <vector>

namespace wop::fetch {

struct ConfigMapKey {
  std::string ns;
  std::string name;
  std::string key;
};

struct ModuleSource {
  std::string path;                           // a file on the host (development)
  std::string image;                          // registry/repository[:tag][@sha256:...]
  std::vector<std::string> imagePullSecrets;  // Secret names in the ServiceAccount's namespace
  ConfigMapKey configMap;                     // set when configMap.name is not empty
  std::string url;                            // https://...
  std::string sha256;                         // the module's digest (hex), when pinned

  bool isPath() const { return !path.empty(); }
  bool isImage() const { return !image.empty(); }
  bool isConfigMap() const { return !configMap.name.empty(); }
  bool isUrl() const { return !url.empty(); }
  // "image registry/repo:tag", "configMap ns/name key k", "url https://...", "path /f.wasm"
  std::string describe() const {
    if (isImage()) return "image " + image;
    if (isConfigMap())
      return "configMap " + configMap.ns + "/" + configMap.name + " key " + configMap.key;
    if (isUrl()) return "url " + url;
    return "path " + path;
  }
};

}  // namespace wop::fetch
