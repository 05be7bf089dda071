// Sample guest for the foundation: parses a Kubernetes object from JSON, checks it looks like
// one (apiVersion, kind, metadata.name), adds the annotation
// "wasm-operator.dev/seen-by: json-roundtrip" and returns the object re-serialised.
// Built as a wasm32-wasi reactor; see GuestInstance::callWithBytes for the call convention.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

namespace {

std::string output;  // lives until the next call, so the host can read it after we return

int64_t fail(const char* why) {
  std::fprintf(stderr, "json-roundtrip: %s\n", why);
  return -1;
}

int64_t pack(const std::string& text) {
  return (static_cast<int64_t>(reinterpret_cast<uintptr_t>(text.data())) << 32) |
         static_cast<int64_t>(text.size());
}

}  // namespace

extern "C" {

__attribute__((export_name("wop_alloc"))) void* wopAlloc(int32_t size) {
  return std::malloc(size > 0 ? static_cast<size_t>(size) : 1);
}

__attribute__((export_name("roundtrip"))) int64_t roundtrip(char* input, int32_t size) {
  auto object = nlohmann::json::parse(input, input + size, nullptr, /*allow_exceptions=*/false);
  std::free(input);
  if (object.is_discarded()) return fail("input is not valid JSON");
  if (!object.is_object()) return fail("input is not a JSON object");
  auto apiVersion = object.find("apiVersion");
  auto kind = object.find("kind");
  auto metadata = object.find("metadata");
  if (apiVersion == object.end() || !apiVersion->is_string() || kind == object.end() ||
      !kind->is_string()) {
    return fail("object has no string apiVersion and kind");
  }
  if (metadata == object.end() || !metadata->is_object() || !metadata->contains("name")) {
    return fail("object has no metadata.name");
  }
  auto& annotations = (*metadata)["annotations"];
  if (!annotations.is_null() && !annotations.is_object()) {
    return fail("metadata.annotations is not an object");
  }
  annotations["wasm-operator.dev/seen-by"] = "json-roundtrip";
  output = object.dump();
  return pack(output);
}

}  // extern "C"
