#include "runtime/controller_setup.h"

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/json_fields.h"
#include "kube/discovery.h"

namespace wop::runtime {
namespace {

using common::Status;
using common::StatusCode;
using Json = nlohmann::json;

// What an operator must be allowed to do with each kind it watches.
constexpr const char* kVerbs[] = {"list", "watch"};

// The answers of one watch's reviews, in kVerbs' order.
struct Answers {
  std::atomic<size_t> pending{std::size(kVerbs)};
  std::optional<Status> failure[std::size(kVerbs)];
};

// One pass over every watch of every controller, one watch at a time.
struct Setup : std::enable_shared_from_this<Setup> {
  kube::Client& client;
  std::vector<ResolvedController> controllers;
  SetupIdentity identity;
  bool checkPermissions;
  SetupDone done;
  size_t controller = 0;
  size_t watch = 0;

  Setup(kube::Client& c, std::vector<ResolvedController> r, SetupIdentity i, bool check,
        SetupDone d)
      : client(c),
        controllers(std::move(r)),
        identity(std::move(i)),
        checkPermissions(check),
        done(std::move(d)) {}

  const WatchDeclaration& declaration(size_t c, size_t w) const {
    const auto& d = controllers[c].declaration;
    if (w == 0) return d.primary;
    if (w <= d.owns.size()) return d.owns[w - 1];
    return d.watches[w - 1 - d.owns.size()];
  }
  size_t watchCount(size_t c) const {
    const auto& d = controllers[c].declaration;
    return 1 + d.owns.size() + d.watches.size();
  }

  void fail(Status status) {
    done(status.withContext("controller " + controllers[controller].declaration.name));
  }

  void next() {
    while (controller < controllers.size() && watch >= watchCount(controller)) {
      ++controller;
      watch = 0;
    }
    if (controller == controllers.size()) {
      done(std::move(controllers));
      return;
    }
    const auto& d = declaration(controller, watch);
    auto self = shared_from_this();
    client.discovery().forKindAsync(
        d.apiVersion, d.kind, [self](kube::ApiResult<kube::ResourceInfo> found) {
          const auto& d = self->declaration(self->controller, self->watch);
          if (!found) {
            self->fail(Status(StatusCode::kFailedPrecondition,
                              d.apiVersion + " " + d.kind + ": " + found.error().toString()));
            return;
          }
          self->controllers[self->controller].resources.push_back(*found);
          if (self->checkPermissions && !self->identity.requestOptions.impersonateUser.empty()) {
            self->review(*found, d.ns);
          } else {
            ++self->watch;
            self->next();
          }
        });
  }

  // One SubjectAccessReview per verb, both in flight at once (a load waits one round trip, not
  // two); then the next watch. A denial names the first verb denied, whichever answered first.
  void review(const kube::ResourceInfo& resource, const std::string& ns) {
    auto answers = std::make_shared<Answers>();
    for (size_t verb = 0; verb < std::size(kVerbs); ++verb) {
      const auto& id = identity.requestOptions;
      Json body = {{"apiVersion", "authorization.k8s.io/v1"},
                   {"kind", "SubjectAccessReview"},
                   {"spec",
                    {{"user", id.impersonateUser},
                     {"groups", id.impersonateGroups},
                     {"resourceAttributes",
                      {{"namespace", ns},
                       {"verb", kVerbs[verb]},
                       {"group", resource.gvr.group},
                       {"resource", resource.gvr.resource}}}}}};
      kube::HttpRequest request = kube::createRequest(
          {{"authorization.k8s.io", "v1", "subjectaccessreviews"}, "SubjectAccessReview", false},
          "", body.dump());
      auto self = shared_from_this();
      client.executeAsync(
          std::move(request), {}, [self, answers, resource, ns, verb](auto response) {
            if (!response) {
              answers->failure[verb] =
                  Status(StatusCode::kUnavailable,
                         "cannot check permissions: " + response.error().toString());
            } else {
              auto answer = Json::parse(response->body, nullptr, false);
              const bool allowed = answer.is_object() && answer.contains("status") &&
                                   common::boolField(answer["status"], "allowed");
              if (!allowed) {
                const std::string where = ns.empty() ? "cluster-wide" : "in namespace " + ns;
                answers->failure[verb] =
                    Status(StatusCode::kFailedPrecondition,
                           "ServiceAccount " + self->identity.serviceAccount + " may not " +
                               kVerbs[verb] + " " + resource.gvr.resource + " " + where +
                               ", which the operator declared it watches; grant it with RBAC");
              }
            }
            // The last answer (each writes only its own slot first) decides.
            if (answers->pending.fetch_sub(1, std::memory_order_acq_rel) > 1) return;
            for (const auto& failure : answers->failure) {
              if (failure) {
                self->fail(*failure);
                return;
              }
            }
            ++self->watch;
            self->next();
          });
    }
  }
};

}  // namespace

void resolveControllers(kube::Client& client, std::vector<ControllerDeclaration> declarations,
                        SetupIdentity identity, bool checkPermissions, SetupDone done) {
  std::vector<ResolvedController> controllers;
  for (auto& declaration : declarations) controllers.push_back({std::move(declaration), {}});
  auto setup = std::make_shared<Setup>(client, std::move(controllers), std::move(identity),
                                       checkPermissions, std::move(done));
  setup->next();
}

}  // namespace wop::runtime
