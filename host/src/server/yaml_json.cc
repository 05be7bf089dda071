#include "server/yaml_json.h"

#include <cstdlib>

#include <yaml-cpp/yaml.h>

namespace wop::server {
namespace {

nlohmann::json scalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text == "null" || text == "~" || text.empty()) return nullptr;
  char* end = nullptr;
  const long long integer = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0') return integer;
  const double real = std::strtod(text.c_str(), &end);
  if (!text.empty() && *end == '\0') return real;
  return text;
}

nlohmann::json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& entry : node) object[entry.first.Scalar()] = toJson(entry.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node) array.push_back(toJson(item));
      return array;
    }
    case YAML::NodeType::Scalar:
      return scalarToJson(node);
    default:
      return nullptr;
  }
}

}  // namespace

common::Result<std::vector<nlohmann::json>> parseYamlDocuments(const std::string& text,
                                                               const std::string& source) {
  try {  // yaml-cpp reports errors by exception; none leaves this function
    std::vector<nlohmann::json> documents;
    for (const auto& node : YAML::LoadAll(text)) {
      if (node.IsNull()) continue;
      documents.push_back(toJson(node));
    }
    return documents;
  } catch (const YAML::Exception& error) {
    return common::Status(common::StatusCode::kInvalidArgument,
                          source + ": line " + std::to_string(error.mark.line + 1) + ": " + error.msg);
  }
}

}  // namespace wop::server
