// Before an operator's controllers start: each declared kind is resolved through discovery,
// and the operator's ServiceAccount must be allowed to list and watch it (SubjectAccessReview),
// or the operator is refused with the RBAC it lacks. Asynchronous: it holds no thread while it
// waits (a retried start runs on a worker, which must not block on the API server).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "kube/client.h"
#include "runtime/controllers.h"

namespace wop::runtime {

struct SetupIdentity {
  kube::RequestOptions requestOptions;  // impersonation; empty user: the host's own identity
  std::string serviceAccount;           // "namespace/name", for messages
};

using SetupDone = std::function<void(common::Result<std::vector<ResolvedController>>)>;

// done runs once, on the client's I/O thread (or at once, for nothing to resolve).
void resolveControllers(kube::Client& client, std::vector<ControllerDeclaration> declarations,
                        SetupIdentity identity, bool checkPermissions, SetupDone done);

}  // namespace wop::runtime
