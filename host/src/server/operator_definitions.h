// Operator definitions, as the CLI reads them from a YAML file or a folder of them (the schema
// the WasmOperator CRD will have):
//
//   apiVersion: wasm-operator.dev/v1alpha1
//   kind: WasmOperator
//   metadata: {name: ring-0}
//   spec:
//     module: ../build/wasm/ring.wasm   # relative to this file
//     serviceAccount: wasm-operators/ring-0   # namespace/name; omit to act as the host
//     config: {inputNamespace: ring-0, outputNamespace: ring-1}
//     limits: {memoryMiB: 64, entryTimeoutMs: 1000}
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/operator_spec.h"

namespace wop::server {

// Errors name the file, the document and the field.
common::Result<std::vector<runtime::OperatorSpec>> loadOperatorDefinitions(const std::string& path);

common::Result<std::vector<runtime::OperatorSpec>> parseOperatorDefinitions(
    const std::string& yaml, const std::string& path);

}  // namespace wop::server
