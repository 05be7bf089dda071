#include "cache/cached_object.h"

#include <algorithm>

namespace wop::cache {
namespace {

using common::Status;
using common::StatusCode;

std::string stringField(simdjson::dom::object object, std::string_view field) {
  std::string_view value;
  if (object[field].get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

void appendQuoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Byte ranges of the serialized JSON that the hashes treat specially, found while writing it.
struct Spans {
  size_t resourceVersionBegin = 0, resourceVersionEnd = 0;  // the member, with its comma
  size_t annotationsBegin = 0, annotationsEnd = 0;          // the value
};

// Writes metadata without managedFields.
void appendMetadata(std::string& out, simdjson::dom::object metadata, bool dropManagedFields,
                    Spans& spans) {
  out += '{';
  bool first = true;
  for (auto [key, value] : metadata) {
    if (dropManagedFields && key == "managedFields") continue;
    const size_t memberBegin = out.size();
    if (!first) out += ',';
    first = false;
    appendQuoted(out, key);
    out += ':';
    const size_t valueBegin = out.size();
    out += simdjson::to_string(value);
    if (key == "resourceVersion") {
      spans.resourceVersionBegin = memberBegin;
      spans.resourceVersionEnd = out.size();
    } else if (key == "annotations") {
      spans.annotationsBegin = valueBegin;
      spans.annotationsEnd = out.size();
    }
  }
  out += '}';
}

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t fnv1a(std::string_view bytes, uint64_t hash = kFnvOffset) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

void computeHashes(CachedObject& object, const Spans& spans) {
  const std::string_view json = object.json;
  object.contentHash = fnv1a(json.substr(spans.resourceVersionEnd),
                             fnv1a(json.substr(0, spans.resourceVersionBegin)));
  const std::string_view annotations =
      json.substr(spans.annotationsBegin, spans.annotationsEnd - spans.annotationsBegin);
  // {} and no annotations hash alike (0): dropping an empty map changes nothing.
  if (!annotations.empty() && annotations != "{}") object.annotationsHash = fnv1a(annotations);
}

std::string serialize(simdjson::dom::object object, const DecodeOptions& options, Spans& spans) {
  std::string out = "{";
  bool first = true;
  auto comma = [&] {
    if (!first) out += ',';
    first = false;
  };
  std::string_view ignored;
  if (!options.apiVersion.empty() && object["apiVersion"].get(ignored) != simdjson::SUCCESS) {
    comma();
    out += "\"apiVersion\":";
    appendQuoted(out, options.apiVersion);
  }
  if (!options.kind.empty() && object["kind"].get(ignored) != simdjson::SUCCESS) {
    comma();
    out += "\"kind\":";
    appendQuoted(out, options.kind);
  }
  for (auto [key, value] : object) {
    comma();
    appendQuoted(out, key);
    out += ':';
    simdjson::dom::object metadata;
    if (key == "metadata" && value.get(metadata) == simdjson::SUCCESS) {
      appendMetadata(out, metadata, options.dropManagedFields, spans);
    } else {
      out += simdjson::to_string(value);
    }
  }
  out += '}';
  return out;
}

void decodeLabels(simdjson::dom::object metadata, CachedObject& object) {
  simdjson::dom::object labels;
  if (metadata["labels"].get(labels) != simdjson::SUCCESS) return;
  for (auto [key, value] : labels) {
    std::string_view text;
    if (value.get(text) == simdjson::SUCCESS) object.labels.emplace_back(key, text);
  }
  std::sort(object.labels.begin(), object.labels.end());
}

void decodeOwners(simdjson::dom::object metadata, CachedObject& object) {
  simdjson::dom::array owners;
  if (metadata["ownerReferences"].get(owners) != simdjson::SUCCESS) return;
  for (auto entry : owners) {
    simdjson::dom::object owner;
    if (entry.get(owner) != simdjson::SUCCESS) continue;
    OwnerReference ref{stringField(owner, "uid"), stringField(owner, "kind"),
                       stringField(owner, "name"), false};
    bool controller = false;
    if (owner["controller"].get(controller) == simdjson::SUCCESS) ref.controller = controller;
    object.owners.push_back(std::move(ref));
  }
}

size_t stringHeap(const std::string& s) {
  // Strings up to 15 bytes live inside the object (libstdc++'s small-string buffer).
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace

size_t CachedObject::memoryBytes() const {
  size_t bytes = sizeof(CachedObject) + stringHeap(ns) + stringHeap(name) + stringHeap(uid) +
                 stringHeap(resourceVersion) + stringHeap(json);
  bytes += labels.capacity() * sizeof(labels[0]);
  for (const auto& [k, v] : labels) bytes += stringHeap(k) + stringHeap(v);
  bytes += owners.capacity() * sizeof(OwnerReference);
  for (const auto& o : owners) bytes += stringHeap(o.uid) + stringHeap(o.kind) + stringHeap(o.name);
  return bytes;
}

const std::string* CachedObject::label(std::string_view key) const {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& entry, std::string_view k) { return entry.first < k; });
  return it != labels.end() && it->first == key ? &it->second : nullptr;
}

common::Result<ObjectPtr> decodeObject(simdjson::dom::element element,
                                       const DecodeOptions& options) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) {
    return Status(StatusCode::kInvalidArgument, "object is not a JSON object");
  }
  simdjson::dom::object metadata;
  if (object["metadata"].get(metadata) != simdjson::SUCCESS) {
    return Status(StatusCode::kInvalidArgument, "object has no metadata");
  }
  auto cached = std::make_shared<CachedObject>();
  cached->name = stringField(metadata, "name");
  if (cached->name.empty())
    return Status(StatusCode::kInvalidArgument, "object has no metadata.name");
  cached->ns = stringField(metadata, "namespace");
  cached->uid = stringField(metadata, "uid");
  cached->resourceVersion = stringField(metadata, "resourceVersion");
  int64_t generation = 0;
  if (metadata["generation"].get(generation) == simdjson::SUCCESS) cached->generation = generation;
  std::string_view deletion;
  cached->deleting = metadata["deletionTimestamp"].get(deletion) == simdjson::SUCCESS;
  decodeLabels(metadata, *cached);
  decodeOwners(metadata, *cached);
  Spans spans;
  cached->json = serialize(object, options, spans);
  cached->json.shrink_to_fit();
  computeHashes(*cached, spans);
  return ObjectPtr(std::move(cached));
}

common::Result<ObjectPtr> decodeObjectJson(simdjson::dom::parser& parser, std::string_view json,
                                           const DecodeOptions& options) {
  simdjson::dom::element element;
  if (auto error = parser.parse(json.data(), json.size()).get(element);
      error != simdjson::SUCCESS) {
    return Status(StatusCode::kInvalidArgument,
                  std::string("object is not valid JSON: ") + simdjson::error_message(error));
  }
  return decodeObject(element, options);
}

}  // namespace wop::cache
