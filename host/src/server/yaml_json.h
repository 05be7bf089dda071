// YAML (manifests, operator definitions) to JSON, the form everything else uses. Plain
// scalars that read as integers, floats, booleans or null are typed; quoted scalars stay
// strings (YAML 1.2 core schema, as Kubernetes reads manifests).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace wop::server {

// Every document of a YAML stream; errors name the source and the line.
common::Result<std::vector<nlohmann::json>> parseYamlDocuments(const std::string& text,
                                                               const std::string& source);

}  // namespace wop::server
