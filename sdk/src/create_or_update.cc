#include "wop/create_or_update.h"

#include "wop/object.h"

namespace wop::sdk {

namespace {

struct Identity {
  std::string apiVersion;
  std::string kind;
  std::string ns;
  std::string name;

  bool operator==(const Identity&) const = default;
  std::string describe() const { return kind + " " + (ns.empty() ? name : ns + "/" + name); }
};

Identity identityOf(const json& object) {
  return {getString(object, {"apiVersion"}).value_or(""), getString(object, {"kind"}).value_or(""),
          namespaceOf(object), nameOf(object)};
}

// Runs mutate; an error if it failed or changed what the object is.
std::string mutateChecked(const MutateFunction& mutate, json& object, const Identity& identity) {
  std::string error = mutate(object);
  if (!error.empty()) return "mutate: " + error;
  if (identityOf(object) != identity) {
    return "mutate changed the object's apiVersion, kind, namespace or name";
  }
  return "";
}

OperationResult written(Operation operation, const Response& response, json fallback) {
  auto answer = response.json();
  return OperationResult::of(operation,
                             answer.is_object() ? std::move(answer) : std::move(fallback));
}

}  // namespace

const char* operationName(Operation operation) {
  switch (operation) {
    case Operation::Created:
      return "created";
    case Operation::Updated:
      return "updated";
    case Operation::Unchanged:
      break;
  }
  return "unchanged";
}

namespace detail {

Task<OperationResult> createOrUpdate(Client& client, json object, MutateFunction mutate,
                                     ReadFrom from) {
  const Identity identity = identityOf(object);
  const std::string what = "createOrUpdate " + identity.describe() + ": ";
  if (identity.apiVersion.empty() || identity.kind.empty() || identity.name.empty()) {
    co_return OperationResult::failure(what + "the object needs apiVersion, kind and a name");
  }
  const Kind kind{identity.apiVersion, identity.kind};
  bool found = false;
  json existing;
  if (from == ReadFrom::Cache) {
    auto read = client.get(kind, identity.ns, identity.name);
    if (read.failed()) co_return OperationResult::failure(what + read.error());
    found = read.found();
    if (found) existing = std::move(*read);
  } else {
    Response read = co_await client.getLive(kind, identity.ns, identity.name);
    if (!read.ok() && !read.notFound()) {
      co_return OperationResult::failure(what + "get: " + read.errorMessage());
    }
    found = read.ok();
    if (found) {
      existing = read.json();
      if (!existing.is_object()) co_return OperationResult::failure(what + "get: not an object");
    }
  }

  if (!found) {
    if (auto error = mutateChecked(mutate, object, identity); !error.empty()) {
      co_return OperationResult::failure(what + error);
    }
    Response created = co_await client.create(object);
    if (!created.ok())
      co_return OperationResult::failure(what + "create: " + created.errorMessage());
    co_return written(Operation::Created, created, std::move(object));
  }

  // Objects from the cache or a list may lack their type; the update takes it from the object.
  existing["apiVersion"] = identity.apiVersion;
  existing["kind"] = identity.kind;
  json mutated = existing;
  if (auto error = mutateChecked(mutate, mutated, identity); !error.empty()) {
    co_return OperationResult::failure(what + error);
  }
  if (mutated == existing) co_return OperationResult::of(Operation::Unchanged, std::move(existing));
  Response updated = co_await client.update(mutated);
  if (!updated.ok()) co_return OperationResult::failure(what + "update: " + updated.errorMessage());
  co_return written(Operation::Updated, updated, std::move(mutated));
}

}  // namespace detail
}  // namespace wop::sdk
