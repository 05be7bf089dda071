// YAML (kubeconfigs, manifests, operator definitions) to JSON, the form everything else uses.
// Plain scalars that read as integers, floats, booleans or null are typed; quoted and block
// scalars stay strings (YAML 1.2 core schema, as Kubernetes reads manifests).
//
// Built on libyaml 0.2.5 (the reference C parser, fuzzed continuously by OSS-Fuzz), after a
// check that the text is printable UTF-8. Two parsers failed our fuzzers first: yaml-cpp 0.7.0
// loops forever on ",!" and libfyaml 0.7.12 looped on a directive line and then wrote past
// its stack on a line of tabs (see docs/dependencies.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wop::common {

// Every document of a YAML stream (empty documents skipped). Anchors and aliases are
// expanded (at most 200,000 nodes in all); a key that appears twice in one mapping, a
// collection used as a key and nesting deeper than 64 levels are refused. Errors name source,
// line and what was wrong.
Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text,
                                                       const std::string& source);

}  // namespace wop::common
