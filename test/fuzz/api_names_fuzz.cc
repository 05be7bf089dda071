// Guest bytes as the names of an API call (group/version, kind, namespace, name, selector):
// the validators never crash, and whatever they accept builds a request path that stays in
// its place: no "." or ".." segment, no query or fragment from the name, no control bytes.
// Also the network-text repair: its output is always valid UTF-8 and idempotent.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.h"
#include "kube/api_names.h"
#include "kube/discovery.h"
#include "kube/request.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool hasDotSegment(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view segment(path.data() + start, end - start);
    if (segment == "." || segment == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Fields separated by NUL: apiVersion, namespace, name, kind, selector.
  std::string_view fields[5];
  size_t start = 0;
  for (auto& field : fields) {
    if (start > input.size()) break;
    size_t end = input.find('\0', start);
    if (end == std::string_view::npos) end = input.size();
    field = input.substr(start, end - start);
    start = end + 1;
  }
  const std::string apiVersion(fields[0]), ns(fields[1]), name(fields[2]);
  (void)wop::kube::checkKind(fields[3]);
  (void)wop::kube::checkLabelSelector(fields[4]);
  (void)wop::kube::checkResourceVersion(fields[4]);
  (void)wop::kube::checkFieldManager(fields[4]);
  const bool valid = wop::kube::checkApiVersion(apiVersion).isOk() &&
                     wop::kube::checkNamespace(ns).isOk() &&
                     wop::kube::checkObjectName(name).isOk();
  if (valid) {
    auto gvr = wop::kube::splitApiVersion(apiVersion);
    gvr.resource = "things";
    const wop::kube::ResourceInfo resource{gvr, "Thing", true};
    const std::string path = wop::kube::objectPath(resource, ns, name);
    check(!hasDotSegment(path));
    check(path.find_first_of("?#") == std::string::npos);
    for (char c : path) check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
    // The path has exactly the segments it was built from.
    const size_t slashes = static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
    const size_t expected = (gvr.group.empty() ? 2 : 3) + (ns.empty() ? 0 : 2) + 2;
    check(slashes == expected);
  }
  const std::string repaired = wop::common::toValidUtf8(input);
  check(wop::common::isValidUtf8(repaired));
  check(wop::common::toValidUtf8(repaired) == repaired);
  check(wop::common::isValidUtf8(input) == (repaired == input));
  return 0;
}
