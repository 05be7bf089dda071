// YAML (kubeconfigs, manifests, operator definitions) to JSON, the form everything else uses.
// Plain scalars that read as integers, floats, booleans or null are typed; quoted and block
// scalars stay strings (YAML 1.2 core schema, as Kubernetes reads manifests).
//
// Built on libfyaml, after a check that the text is printable UTF-8 without directives
// (libfyaml 0.7.12 loops on some bytes outside that). (yaml-cpp 0.7.0, Debian's, loops forever and eats memory on input as
// small as ",!" -- found by our operator-definitions fuzzer -- so it is not used.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace wop::common {

// Every document of a YAML stream (empty documents skipped). Errors name source, line and
// what libfyaml found wrong.
Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text, const std::string& source);

}  // namespace wop::common
