#include "common/yaml.h"

#include <yaml.h>

#include <cerrno>
#include <cstdlib>
#include <map>

namespace wop::common {
namespace {

// Deeper nesting than this in a config is hostile (or a mistake).
constexpr size_t kMaxDepth = 64;
// Nodes a stream may produce, aliases counted as the nodes they copy: a "billion laughs"
// document of nested aliases is refused instead of expanded. Real configs are far smaller.
constexpr size_t kMaxNodes = 200'000;

struct ParserHandle {
  yaml_parser_t parser;
  ParserHandle() { yaml_parser_initialize(&parser); }
  ~ParserHandle() { yaml_parser_delete(&parser); }
  ParserHandle(const ParserHandle&) = delete;
  ParserHandle& operator=(const ParserHandle&) = delete;
};

struct EventHandle {
  yaml_event_t event{};
  ~EventHandle() { yaml_event_delete(&event); }
};

std::string_view scalarText(const yaml_event_t& event) {
  return {reinterpret_cast<const char*>(event.data.scalar.value), event.data.scalar.length};
}

// YAML 1.2 core schema for plain, untagged scalars; everything else is a string.
nlohmann::json scalarToJson(const yaml_event_t& event) {
  std::string text(scalarText(event));
  const bool plain =
      event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && event.data.scalar.tag == nullptr;
  if (!plain) return text;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "null" || text == "Null" || text == "NULL" || text == "~")
    return nullptr;
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

std::string anchorName(const yaml_char_t* anchor) {
  return anchor != nullptr ? std::string(reinterpret_cast<const char*>(anchor)) : std::string();
}

// Turns the parser's events into JSON values, one per document. A collection under
// construction is a frame; a finished value is attached to the frame below it.
class DocumentBuilder {
 public:
  explicit DocumentBuilder(std::vector<nlohmann::json>& documents) : documents_(documents) {}

  Status handle(const yaml_event_t& event) {
    line_ = event.start_mark.line + 1;
    switch (event.type) {
      case YAML_DOCUMENT_START_EVENT:
        anchors_.clear();  // anchors do not reach across documents
        return Status::ok();
      case YAML_SCALAR_EVENT:
        if (expectingKey()) return takeKey(std::string(scalarText(event)));
        if (auto status = count(1); !status.isOk()) return status;
        return attach(scalarToJson(event), anchorName(event.data.scalar.anchor), 1);
      case YAML_ALIAS_EVENT:
        return alias(reinterpret_cast<const char*>(event.data.alias.anchor));
      case YAML_SEQUENCE_START_EVENT:
        return open(nlohmann::json::array(), anchorName(event.data.sequence_start.anchor));
      case YAML_MAPPING_START_EVENT:
        return open(nlohmann::json::object(), anchorName(event.data.mapping_start.anchor));
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        return close();
      default:
        return Status::ok();  // stream start/end, document end, no event
    }
  }

 private:
  struct Frame {
    nlohmann::json value;
    std::string anchor;
    std::string key;
    bool haveKey = false;
    size_t nodes = 1;  // this collection and everything in it so far
  };

  Status fail(const std::string& what) const {
    return Status(StatusCode::kInvalidArgument, "line " + std::to_string(line_) + ": " + what);
  }

  bool expectingKey() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().haveKey;
  }

  Status takeKey(std::string key) {
    Frame& frame = stack_.back();
    if (frame.value.contains(key)) return fail("mapping key \"" + key + "\" appears twice");
    frame.key = std::move(key);
    frame.haveKey = true;
    return Status::ok();
  }

  Status open(nlohmann::json empty, std::string anchor) {
    if (expectingKey()) return fail("a mapping key is not a plain string");
    if (stack_.size() >= kMaxDepth)
      return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    stack_.push_back(Frame{std::move(empty), std::move(anchor)});
    return Status::ok();
  }

  Status close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (auto status = count(1); !status.isOk()) return status;
    return attach(std::move(frame.value), frame.anchor, frame.nodes);
  }

  Status alias(const char* anchor) {
    const auto found = anchors_.find(anchor);
    if (found == anchors_.end())
      return fail("alias *" + std::string(anchor) + " names no anchor before it");
    const auto& [value, nodes] = found->second;
    if (expectingKey()) {
      if (!value.is_string()) return fail("a mapping key is not a plain string");
      return takeKey(value.get<std::string>());
    }
    if (auto status = count(nodes); !status.isOk()) return status;
    return attach(nlohmann::json(value), "", nodes);
  }

  // Every node produced counts once, an alias as the nodes it copies.
  Status count(size_t nodes) {
    totalNodes_ += nodes;
    if (totalNodes_ > kMaxNodes)
      return fail("more than " + std::to_string(kMaxNodes) + " nodes (aliases included)");
    return Status::ok();
  }

  // A finished value goes into the collection below it, or is a document.
  Status attach(nlohmann::json value, const std::string& anchor, size_t nodes) {
    if (!anchor.empty()) anchors_[anchor] = {value, nodes};
    if (stack_.empty()) {
      if (!value.is_null()) documents_.push_back(std::move(value));  // empty documents are skipped
      return Status::ok();
    }
    Frame& parent = stack_.back();
    parent.nodes += nodes;
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(value));
    } else {
      parent.value[parent.key] = std::move(value);
      parent.haveKey = false;
    }
    return Status::ok();
  }

  std::vector<nlohmann::json>& documents_;
  std::vector<Frame> stack_;
  std::map<std::string, std::pair<nlohmann::json, size_t>, std::less<>> anchors_;
  size_t totalNodes_ = 0;
  size_t line_ = 1;
};

// YAML allows only printable characters (and tab, CR, LF) in valid UTF-8. Refusing anything
// else up front names the line and the byte; libyaml would refuse them too, less clearly.
Status checkCharacters(std::string_view text, const std::string& source) {
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return Status(StatusCode::kInvalidArgument, source + ": line " + std::to_string(line) +
                                                        ": control character " + std::to_string(c) +
                                                        " is not allowed in YAML");
      }
      if (c == 0x7f)
        return Status(StatusCode::kInvalidArgument, source + ": DEL is not allowed in YAML");
      ++i;
      continue;
    }
    const size_t length = c >= 0xf5 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool valid = length != 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k)
      valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (!valid) {
      return Status(StatusCode::kInvalidArgument, source + ": line " + std::to_string(line) +
                                                      ": not valid UTF-8 (byte " +
                                                      std::to_string(i) + ")");
    }
    i += length;
  }
  return Status::ok();
}

// libyaml's own words, with a 1-based line: "line 2 column 1: did not find expected ',' or
// ']' (while parsing a flow sequence)".
std::string parserProblem(const yaml_parser_t& parser) {
  std::string message = "line " + std::to_string(parser.problem_mark.line + 1) + " column " +
                        std::to_string(parser.problem_mark.column + 1) + ": " +
                        (parser.problem != nullptr ? parser.problem : "syntax error");
  if (parser.context != nullptr) message += std::string(" (") + parser.context + ")";
  return message;
}

}  // namespace

Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text,
                                                       const std::string& source) {
  if (auto status = checkCharacters(text, source); !status.isOk()) return status;
  ParserHandle handle;
  yaml_parser_set_input_string(&handle.parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  yaml_parser_set_encoding(&handle.parser, YAML_UTF8_ENCODING);

  std::vector<nlohmann::json> documents;
  DocumentBuilder builder(documents);
  for (;;) {
    EventHandle event;
    if (yaml_parser_parse(&handle.parser, &event.event) == 0) {
      return Status(StatusCode::kInvalidArgument,
                    source + ": not valid YAML: " + parserProblem(handle.parser));
    }
    if (auto status = builder.handle(event.event); !status.isOk())
      return status.withContext(source);
    if (event.event.type == YAML_STREAM_END_EVENT) break;
  }
  return documents;
}

}  // namespace wop::common
