// Validation of the names a guest hands the host (API groups, versions, kinds, namespaces,
// object names, selectors), by the API server's own rules, before any URL is built from them.
// Request builders (request.h) put group and version into paths as they are, and libcurl
// removes "." and ".." segments, so an unchecked "v1/../../api/..." or a name ".." sends a
// different request than the one asked for, with whatever identity sends it.
//
// Pure functions; errors name the field and say what is allowed. Thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"

namespace wop::kube {

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes (RFC 1123 label, as Kubernetes spells it).
bool isDns1123Label(std::string_view text);
// Dot-separated DNS-1123 labels, at most 253 bytes.
bool isDns1123Subdomain(std::string_view text);
// [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 bytes (a label that starts with a letter: "v1").
bool isDns1035Label(std::string_view text);

// "v1" (core) or "<group>/<version>": group a DNS-1123 subdomain, version a DNS-1035 label.
common::Status checkApiVersion(std::string_view apiVersion);
// [A-Za-z][A-Za-z0-9]*, at most 63 bytes.
common::Status checkKind(std::string_view kind);
// A DNS-1123 label; empty is allowed (all namespaces, or a cluster-scoped object).
common::Status checkNamespace(std::string_view ns);
// What the API server accepts as a name in a path for any kind: not empty, not "." or "..",
// no "/" or "%", at most 253 bytes; and, ours: no control characters or spaces, valid UTF-8.
// Most kinds allow less (a DNS-1123 subdomain); the server says so itself.
common::Status checkObjectName(std::string_view name);
// Bounded, valid UTF-8, no control characters; its syntax is the server's to check (it goes
// into a query string, percent-encoded).
common::Status checkLabelSelector(std::string_view selector);
// Bounded printable ASCII (an opaque token from the server).
common::Status checkResourceVersion(std::string_view resourceVersion);
// Bounded, valid UTF-8, no control characters (the server's rule).
common::Status checkFieldManager(std::string_view fieldManager);

}  // namespace wop::kube
