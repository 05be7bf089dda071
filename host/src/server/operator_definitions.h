// Operator definitions, as the CLI reads them from a YAML file or a folder of them: WasmOperator
// objects of the CRD's schema (deploy/crds/wasmoperators.yaml, docs/api.md):
//
//   apiVersion: wasm-operator.dev/v1alpha1
//   kind: WasmOperator
//   metadata: {name: ring-0}
//   spec:
//     module: {path: ../build/wasm/ring.wasm}   # relative to this file; sha256 optional
//     serviceAccount: {namespace: wasm-operators, name: ring-0}   # or trusted: true
//     config: {inputNamespace: ring-0, outputNamespace: ring-1}
//     limits: {memoryMiB: 64, entryTimeoutMs: 1000}
//     allowedHosts: [https://api.example.com]   # outbound HTTP (outbound/allowed_hosts.h)
//
// The file mode runs modules from paths only (image, configMapRef and url are refused with a
// message saying so); the WasmOperator controller fetches the others (fetch/module_fetcher.h).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "fetch/module_source.h"
#include "runtime/operator_spec.h"

namespace wop::server {

// A WasmOperator as read: the spec the host runs, and where its module comes from. For a
// `path` source spec.modulePath is set; for the others the module is fetched first.
struct WasmOperatorDefinition {
  runtime::OperatorSpec spec;
  fetch::ModuleSource module;
};

// One WasmOperator object (a file's document or the API server's object). where prefixes
// errors; a relative module path is taken from folder.
common::Result<WasmOperatorDefinition> parseWasmOperator(const nlohmann::json& doc,
                                                         const std::string& where,
                                                         const std::filesystem::path& folder);

// Errors name the file, the document and the field.
common::Result<std::vector<runtime::OperatorSpec>> loadOperatorDefinitions(const std::string& path);

common::Result<std::vector<runtime::OperatorSpec>> parseOperatorDefinitions(
    const std::string& yaml, const std::string& path);

}  // namespace wop::server
