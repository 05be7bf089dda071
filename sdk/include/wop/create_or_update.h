// createOrUpdate: controller-runtime's controllerutil.CreateOrUpdate. Reads the object, creates
// it if absent, else applies `mutate` to what exists and updates it only if that changed
// anything:
//
//   json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
//              {"metadata", {{"namespace", ns}, {"name", name}}}};
//   auto done = co_await createOrUpdate(ctx.client, cm, [&](json& cm) {
//     cm["data"] = wanted;
//     setControllerReference(owner, cm);
//   });
//   if (done.failed()) co_return Result::error(done.error());
//   log::info("configmap", {{"operation", operationName(done.operation())}});
//
// `object` names what to read (apiVersion, kind, metadata.namespace/name) and is the starting
// point of a create; on update `mutate` gets the object as it exists instead. mutate may
// return void, or a std::string that is an error when not empty (nothing is written then).
// It must not change the object's apiVersion, kind, namespace or name.
//
// The read comes from the cache (the kind must be declared: For, Owns or Watches) or, with
// ReadFrom::Live, from the API server. A read that fails is an error, never "absent" (it could
// create what exists). The update is a PUT carrying the resourceVersion that was read, so a
// concurrent change makes it fail with 409 Conflict rather than be overwritten: return the
// error and the key is retried with fresh state. A create that meets AlreadyExists (a cache
// behind the server) fails the same way.
//
// Lifetime: call it with co_await at once. mutate is kept until the Task finishes, so what it
// captures by reference must outlive that (locals of the awaiting reconcile do).
#pragma once

#include <concepts>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "wop/client.h"
#include "wop/task.h"

namespace wop::sdk {

using nlohmann::json;

// controllerutil.OperationResult: unchanged, created, updated.
enum class Operation { Unchanged, Created, Updated };
const char* operationName(Operation operation);

enum class ReadFrom { Cache, Live };

class [[nodiscard]] OperationResult {
 public:
  static OperationResult of(Operation operation, json object) {
    return OperationResult(operation, std::move(object), {});
  }
  static OperationResult failure(std::string error) {
    return OperationResult(Operation::Unchanged, json(), std::move(error));
  }

  bool failed() const { return !error_.empty(); }
  // What failed, for Result::error and logs; "" unless failed().
  const std::string& error() const { return error_; }
  Operation operation() const { return operation_; }
  // The object as the API server answered the write, or as read when unchanged; null if failed.
  const json& object() const { return object_; }

 private:
  OperationResult(Operation operation, json object, std::string error)
      : operation_(operation), object_(std::move(object)), error_(std::move(error)) {}
  Operation operation_;
  json object_;
  std::string error_;
};

// A mutate function in its one stored form: "" or the error.
using MutateFunction = std::function<std::string(json& object)>;

namespace detail {

Task<OperationResult> createOrUpdate(Client& client, json object, MutateFunction mutate,
                                     ReadFrom from);

template <typename F>
MutateFunction toMutateFunction(F&& mutate) {
  using Returned = std::invoke_result_t<F&, json&>;
  if constexpr (std::is_void_v<Returned>) {
    return [f = std::forward<F>(mutate)](json& object) mutable {
      f(object);
      return std::string();
    };
  } else {
    static_assert(std::convertible_to<Returned, std::string>,
                  "mutate returns void or an error message (std::string, empty when ok)");
    return [f = std::forward<F>(mutate)](json& object) mutable { return std::string(f(object)); };
  }
}

// For WOP_CO_TRY / WOP_CO_CHECK (wop/try.h).
inline std::optional<std::string> tryError(const OperationResult& result) {
  if (result.failed()) return result.error();
  return std::nullopt;
}

}  // namespace detail

template <typename F>
Task<OperationResult> createOrUpdate(Client& client, json object, F&& mutate,
                                     ReadFrom from = ReadFrom::Cache) {
  return detail::createOrUpdate(client, std::move(object),
                                detail::toMutateFunction(std::forward<F>(mutate)), from);
}

}  // namespace wop::sdk
