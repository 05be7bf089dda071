#include "fake_operator_parts.h"

#include <simdjson.h>

namespace wop::runtime::testing {

const char* const kCoreV1Resources =
    R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
      {"name":"configmaps","namespaced":true,"kind":"ConfigMap"},
      {"name":"secrets","namespaced":true,"kind":"Secret"},
      {"name":"namespaces","namespaced":false,"kind":"Namespace"}]})";

cache::ObjectPtr configMap(const std::string& ns, const std::string& name,
                           const std::string& resourceVersion, const std::string& extraMetadata) {
  static simdjson::dom::parser parser;
  const std::string json = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"namespace":")" +
                           ns + R"(","name":")" + name + R"(","resourceVersion":")" +
                           resourceVersion + "\"" + extraMetadata + R"(},"data":{"rv":")" +
                           resourceVersion + "\"}}";
  auto object = cache::decodeObjectJson(parser, json, {});
  return object ? *object : nullptr;
}

std::unique_ptr<kube::Client> fakeClient(common::FakeClock& clock,
                                         kube::FakeTransport** transport) {
  kube::ClientConfig config;
  config.server = "https://127.0.0.1:6443";
  config.bearerToken = "t";
  auto fake = std::make_unique<kube::FakeTransport>(clock);
  *transport = fake.get();
  return std::make_unique<kube::Client>(config, std::move(fake),
                                        kube::ClientOptions{.qps = 0, .maxRetries = 0}, clock);
}

}  // namespace wop::runtime::testing
