#include "common/yaml.h"

#include <libfyaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace wop::common {
namespace {

// Deeper nesting than this in a config is hostile (or a mistake); it also bounds recursion.
constexpr int kMaxDepth = 64;

struct ParserDeleter {
  void operator()(fy_parser* parser) const { fy_parser_destroy(parser); }
};
struct DiagDeleter {
  void operator()(fy_diag* diag) const { fy_diag_destroy(diag); }
};

void collectDiagnostic(fy_diag*, void* user, const char* buf, size_t len) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() < 1024) out->append(buf, len);
}

nlohmann::json scalarToJson(fy_node* node) {
  size_t length = 0;
  const char* data = fy_node_get_scalar(node, &length);
  std::string text(data != nullptr ? data : "", data != nullptr ? length : 0);
  if (fy_node_get_style(node) != FYNS_PLAIN) return text;  // quoted or block: a string
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
  char* end = nullptr;
  errno = 0;
  const long long integer = std::strtoll(text.c_str(), &end, 10);
  if (*end == '\0' && errno == 0) return integer;
  const double real = std::strtod(text.c_str(), &end);
  if (*end == '\0' && text.find_first_of("0123456789") != std::string::npos &&
      text.find_first_of("xXnN") == std::string::npos) {
    return real;  // not "0x10", "nan", "inf": YAML 1.2 core spells those differently
  }
  return text;
}

Result<nlohmann::json> toJson(fy_node* node, int depth) {
  if (depth > kMaxDepth) return Status(StatusCode::kInvalidArgument, "nested deeper than 64 levels");
  if (node == nullptr) return nlohmann::json(nullptr);
  switch (fy_node_get_type(node)) {
    case FYNT_SCALAR:
      return scalarToJson(node);
    case FYNT_SEQUENCE: {
      nlohmann::json array = nlohmann::json::array();
      void* iterator = nullptr;
      while (fy_node* item = fy_node_sequence_iterate(node, &iterator)) {
        auto value = toJson(item, depth + 1);
        if (!value) return value.status();
        array.push_back(std::move(*value));
      }
      return array;
    }
    case FYNT_MAPPING: {
      nlohmann::json object = nlohmann::json::object();
      void* iterator = nullptr;
      while (fy_node_pair* pair = fy_node_mapping_iterate(node, &iterator)) {
        fy_node* key = fy_node_pair_key(pair);
        if (key == nullptr || fy_node_get_type(key) != FYNT_SCALAR) {
          return Status(StatusCode::kInvalidArgument, "a mapping key is not a plain string");
        }
        size_t length = 0;
        const char* data = fy_node_get_scalar(key, &length);
        auto value = toJson(fy_node_pair_value(pair), depth + 1);
        if (!value) return value.status();
        object[std::string(data != nullptr ? data : "", data != nullptr ? length : 0)] = std::move(*value);
      }
      return object;
    }
  }
  return nlohmann::json(nullptr);
}

// YAML allows only printable characters (and tab, CR, LF) in valid UTF-8. Refusing anything
// else up front gives a clear message and keeps bytes away from parser paths that loop on
// them: libfyaml 0.7.12 hangs on "%!\0\xff..." (found by our fuzzer). Directives (%YAML,
// %TAG) are refused for the same reason; no Kubernetes config uses them.
Status checkCharacters(std::string_view text, const std::string& source) {
  size_t line = 1;
  bool lineStart = true;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (lineStart && c == '%') {
      return Status(StatusCode::kInvalidArgument, source + ": line " + std::to_string(line) +
                                                      ": YAML directives (%...) are not supported");
    }
    lineStart = c == '\n' || c == '\r';
    if (c == '\n') ++line;
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return Status(StatusCode::kInvalidArgument, source + ": line " + std::to_string(line) +
                                                        ": control character " + std::to_string(c) +
                                                        " is not allowed in YAML");
      }
      if (c == 0x7f) return Status(StatusCode::kInvalidArgument, source + ": DEL is not allowed in YAML");
      ++i;
      continue;
    }
    // A UTF-8 sequence: a lead byte and 1-3 continuation bytes, no overlong or surrogate check
    // needed for safety here (the parser only needs well-formed sequences).
    const size_t length = c >= 0xf5 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool valid = length != 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (!valid) {
      return Status(StatusCode::kInvalidArgument, source + ": line " + std::to_string(line) +
                                                      ": not valid UTF-8 (byte " + std::to_string(i) + ")");
    }
    i += length;
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text, const std::string& source) {
  if (auto status = checkCharacters(text, source); !status.isOk()) return status;
  std::string diagnostics;
  fy_diag_cfg diagConfig;
  fy_diag_cfg_default(&diagConfig);
  diagConfig.fp = nullptr;
  diagConfig.output_fn = collectDiagnostic;
  diagConfig.user = &diagnostics;
  diagConfig.colorize = false;
  std::unique_ptr<fy_diag, DiagDeleter> diag(fy_diag_create(&diagConfig));

  fy_parse_cfg config;
  std::memset(&config, 0, sizeof config);
  config.flags = static_cast<fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT | FYPCF_DEFAULT_VERSION_1_2);
  config.diag = diag.get();
  std::unique_ptr<fy_parser, ParserDeleter> parser(fy_parser_create(&config));
  if (!parser || fy_parser_set_string(parser.get(), text.data(), text.size()) != 0) {
    return Status(StatusCode::kInternal, source + ": cannot start the YAML parser");
  }
  std::vector<nlohmann::json> documents;
  while (fy_document* document = fy_parse_load_document(parser.get())) {
    auto json = toJson(fy_document_root(document), 0);
    fy_parse_document_destroy(parser.get(), document);
    if (!json) return json.status().withContext(source);
    if (!json->is_null()) documents.push_back(std::move(*json));
  }
  if (fy_parser_get_stream_error(parser.get())) {
    // libfyaml's message: "<memory-...>:LINE:COL: error: what\n<the line>\n   ^"
    std::string message = diagnostics.substr(0, diagnostics.find('\n'));
    const auto colon = message.find(">:");
    if (colon != std::string::npos) message = "line " + message.substr(colon + 2);
    return Status(StatusCode::kInvalidArgument,
                  source + ": not valid YAML: " + (message.empty() ? "syntax error" : message));
  }
  return documents;
}

}  // namespace wop::common
