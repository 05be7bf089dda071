// wop_cache_read: an operator reads objects from the informer caches of the watches it
// declared, never anything else (a guest cannot read what it did not declare it watches).
#pragma once

#include <string>
#include <string_view>

#include "hostcalls/operator_services.h"
#include "runtime/controllers.h"

namespace wop::runtime {

// requestJson: {"apiVersion", "kind", "namespace"?, "name"?, "labelSelector"?} from the guest
// (hostile: every field is checked before use). A get answers the object's JSON, a list
// {"items":[...]}.
hostcalls::HostResult<std::string> readCache(const Controllers& controllers,
                                             std::string_view requestJson);

}  // namespace wop::runtime
