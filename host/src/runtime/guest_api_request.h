// An API call as a guest asks for it (ABI v1 wop_api_call JSON), validated, and turned into
// the HTTP request the client sends.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "kube/request.h"
#include "wop_abi.h"

namespace wop::runtime {

struct GuestApiRequest {
  std::string verb;  // a WOP_VERB_*
  std::string apiVersion;
  std::string kind;
  std::string ns;
  std::string name;
  std::string body;  // JSON text of "body", if any
  std::string patchType = WOP_PATCH_MERGE;
  std::string fieldManager;
  bool force = false;
  // patch and apply only: "" (the object) or WOP_SUBRESOURCE_STATUS.
  std::string subresource;
  std::string propagationPolicy;
  std::string labelSelector;
  // get/list only: read at or after this version (kube's resourceVersion semantics);
  // resourceVersionMatch is NotOlderThan or Exact (list only).
  std::string resourceVersion;
  std::string resourceVersionMatch;
};

// Errors name the field.
common::Result<GuestApiRequest> parseGuestApiRequest(std::string_view json);

// The HTTP request for request against resource. operatorName becomes the default field
// manager and the Event source. For "event" the resource must be core/v1 events.
common::Result<kube::HttpRequest> toHttpRequest(const GuestApiRequest& request,
                                                const kube::ResourceInfo& resource,
                                                const std::string& operatorName);

}  // namespace wop::runtime
