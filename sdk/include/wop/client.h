// Client: reads from the host's informer cache (synchronous) and calls to the API server
// (awaitable Calls). All calls run as the operator's ServiceAccount.
//
//   auto cm = ctx.client.get(kinds::ConfigMap, req.ns, req.name);        // cache
//   if (cm.failed()) co_return Result::error(cm.error());
//   Response r = co_await ctx.client.apply(copy, "replicator");          // server-side apply
//
// The cache only holds kinds the operator declared (For/Owns/Watches), within the declared
// namespaces and selectors. Writes take the object's apiVersion, kind, namespace and name from
// the object itself.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "wop/call.h"
#include "wop/json_codec.h"
#include "wop/kind.h"
#include "wop/read_result.h"

namespace wop::sdk {

namespace detail {
class Runtime;
}

using nlohmann::json;

enum class PatchType { Merge, Json, Strategic };

class Client {
 public:
  explicit Client(detail::Runtime& runtime) : runtime_(runtime) {}

  // ---- cache reads (synchronous): found, not found, or failed (wop/read_result.h). A failure
  // (not declared, cache not synced, a limit) is never "absent": return its error().
  ReadResult<json> get(Kind kind, std::string_view ns, std::string_view name) const;
  // Never notFound: no match is an empty list.
  ReadResult<std::vector<json>> list(Kind kind, std::string_view ns,
                                     std::string_view labelSelector = "") const;
  // The objects of kind in ns ("" = all) whose field index `index` (Controller::IndexField)
  // has `value`: controller-runtime's List(..., MatchingFields{index: value}). Never notFound.
  // A declared watch of kind must hold every object the read can return (as for list: add
  // labelSelector when every watch of the kind is selected; an index on a label is covered by
  // a watch selecting that label). Fails with WOP_ERR_INVALID_ARGUMENT if no such index.
  ReadResult<std::vector<json>> listByIndex(Kind kind, std::string_view ns, std::string_view index,
                                            std::string_view value,
                                            std::string_view labelSelector = "") const;

  // ---- typed cache reads (docs/sdk.md, "Typed objects"): T is a kind with kKind (the
  // generated wop/types/*, or a CustomResource of yours). An object that does not decode as T
  // (a field of the wrong type) is failed() with WOP_ERR_INVALID_ARGUMENT and its path; in a
  // list, one such object fails the whole list.
  template <HasKind T>
  ReadResult<T> get(std::string_view ns, std::string_view name) const {
    return decodedRead<T>(get(T::kKind, ns, name), T::kKind, ns, name);
  }
  template <HasKind T>
  ReadResult<std::vector<T>> list(std::string_view ns, std::string_view labelSelector = "") const {
    return decodedRead<std::vector<T>>(list(T::kKind, ns, labelSelector), T::kKind, ns, "");
  }

  // ---- API calls (awaitable)
  Call getLive(Kind kind, std::string_view ns, std::string_view name);
  Call listLive(Kind kind, std::string_view ns, std::string_view labelSelector = "");
  Call create(const json& object);
  Call update(const json& object);
  Call updateStatus(const json& object);
  Call patch(Kind kind, std::string_view ns, std::string_view name, const json& patch,
             PatchType type = PatchType::Merge);
  // Patches `object` (its apiVersion, kind, namespace and name).
  Call patch(const json& object, const json& patch, PatchType type = PatchType::Merge);
  // Server-side apply: `object` is the whole intent of fieldManager.
  Call apply(const json& object, std::string_view fieldManager, bool force = true);
  // ---- the status subresource. Writes to /status change only the
  // status (and writes to the object itself never do, when the kind has the subresource).
  // A patch of `object`'s status: {"status": {...}} as a merge patch, or a JSON patch.
  Call patchStatus(const json& object, const json& patch, PatchType type = PatchType::Merge);
  // Server-side apply of `object`'s status as fieldManager's whole intent for it: only
  // apiVersion, kind, metadata.name/namespace and status are sent.
  Call applyStatus(const json& object, std::string_view fieldManager, bool force = true);
  // propagationPolicy: "" (the server's default), "Foreground", "Background" or "Orphan".
  Call remove(Kind kind, std::string_view ns, std::string_view name,
              std::string_view propagationPolicy = "");
  Call remove(const json& object, std::string_view propagationPolicy = "");

  // ---- helpers
  // type: "Normal" or "Warning"; reason: UpperCamelCase; message: one sentence.
  Call recordEvent(const json& object, std::string_view type, std::string_view reason,
                   std::string_view message);
  // Adds / removes a finalizer with a merge patch guarded by resourceVersion; completes at once
  // (status 200, body = the object) when there is nothing to change. The response body is the
  // updated object.
  Call addFinalizer(const json& object, std::string_view finalizer);
  Call removeFinalizer(const json& object, std::string_view finalizer);

  // Sends any request of the wop_api_call JSON shape (see wop_abi.h).
  Call send(const json& request);

 private:
  // The parsed answer, or the failure (WOP_ERR_NOT_FOUND included) with its description.
  ReadResult<json> cacheRead(const json& request) const;
  // The read decoded as T (an object, or a list of them as a JSON array).
  template <typename T, typename Raw>
  static ReadResult<T> decodedRead(ReadResult<Raw> read, Kind kind, std::string_view ns,
                                   std::string_view name) {
    if (read.notFound()) return ReadResult<T>::absent();
    if (read.failed()) return ReadResult<T>::failure(read.status(), read.error());
    T value{};
    DecodeError error;
    if (!decodeJson(json(std::move(*read)), value, error)) {
      return ReadResult<T>::failure(WOP_ERR_INVALID_ARGUMENT,
                                    "cache read of " + std::string(kind.kind) + " " +
                                        std::string(ns) +
                                        (name.empty() ? " (list)" : "/" + std::string(name)) +
                                        ": not a valid object: " + error.message());
    }
    return ReadResult<T>::of(std::move(value));
  }
  detail::Runtime& runtime_;
};

}  // namespace wop::sdk
