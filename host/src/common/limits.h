// Every length that comes from a guest or from the network is capped by a constant here,
// so a hostile input cannot make the host allocate or copy without bound.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wop::limits {

// Largest .wasm file the host will read and compile.
inline constexpr size_t kMaxModuleBytes = 64u << 20;
// What compiling one module may cost, checked on its bytes before Wasmtime sees them:
// compilation takes a few KiB of host memory per function whatever its size (200,000 empty
// functions took 1.1 GiB), and more per byte of code. The SDK's operators have a few thousand
// functions and well under 1 MiB of code.
inline constexpr uint32_t kMaxModuleFunctions = 50'000;
inline constexpr uint64_t kMaxModuleCodeBytes = 16u << 20;
// Store resources of one guest instance (Wasmtime's store limiter), besides its memory cap.
// Tables are not counted in the memory cap: each element of any one table is capped here, so
// one table.grow cannot allocate gigabytes (clang's guests have one table of the functions
// whose address they take: a few thousand entries). A refused table.grow returns -1.
inline constexpr uint32_t kMaxGuestTableElements = 100'000;
inline constexpr uint32_t kMaxGuestTables = 4;
inline constexpr uint32_t kMaxGuestMemories = 1;
inline constexpr uint32_t kMaxGuestInstances = 1;
// Most mutable globals a snapshot saves (the snapshot layer format's own cap); a module with
// more stays resident.
inline constexpr uint32_t kMaxSnapshotGlobals = 1024;
// Largest input the host copies into a guest in one call, and largest output it reads back.
inline constexpr uint32_t kMaxGuestCallBytes = 16u << 20;
// Largest single write a guest may send to its stdout/stderr (WASI fd_write), per call.
inline constexpr uint32_t kMaxGuestLogWriteBytes = 64u << 10;
// Largest number of iovecs in one WASI fd_write.
inline constexpr uint32_t kMaxGuestIovecs = 64;
// Bytes of guest stdout/stderr kept per instance; the rest is counted and dropped.
inline constexpr size_t kMaxGuestLogBufferBytes = 256u << 10;

// Kubernetes API traffic.
// Largest kubeconfig file (or in-cluster token/CA file) we read.
inline constexpr size_t kMaxKubeconfigBytes = 4u << 20;
// Largest stdout an exec credential plugin may print.
inline constexpr size_t kMaxExecCredentialBytes = 1u << 20;
// Stderr of an exec credential plugin kept for the error message; the rest is dropped.
inline constexpr size_t kMaxExecStderrBytes = 64u << 10;
// Largest single event on a watch stream; etcd caps objects near 1.5 MiB, with headroom for
// the event envelope and JSON escaping.
inline constexpr size_t kMaxWatchEventBytes = 16u << 20;
// Largest body of a non-streaming response (a LIST page); pages are requested with a limit.
inline constexpr size_t kMaxResponseBytes = 256u << 20;
// Largest request body we send (an object or a patch).
inline constexpr size_t kMaxRequestBytes = 16u << 20;
// Largest error response body parsed as a metav1.Status; a longer one is only quoted.
inline constexpr size_t kMaxApiErrorBodyBytes = 1u << 20;

// Names a guest hands over, before any URL is built from them (the API server's own rules:
// k8s.io/apimachinery/pkg/util/validation and path segment names).
// A DNS-1123 label (namespaces, versions) and a DNS-1123 subdomain (API groups, most names).
inline constexpr size_t kMaxDnsLabelBytes = 63;
inline constexpr size_t kMaxDnsSubdomainBytes = 253;
// A kind: CRDs require its lower case to be a DNS-1035 label, so 63; built-in kinds are shorter.
inline constexpr size_t kMaxKindBytes = 63;
// A label selector as a guest writes it (a label is <= 317 bytes: a 253-byte prefix, "/", a
// 63-byte name; a value <= 63), so room for a dozen terms.
inline constexpr size_t kMaxLabelSelectorBytes = 4096;
// A resourceVersion is opaque, but the API server's are decimal etcd revisions.
inline constexpr size_t kMaxResourceVersionBytes = 128;
// The API server refuses a longer fieldManager.
inline constexpr size_t kMaxFieldManagerBytes = 128;
// Deepest nesting of arrays and objects accepted in a guest's JSON (wop_api_call bodies,
// wop_declare, wop_cache_read). The writer and the copy of nlohmann's json are recursive; this
// keeps them far from a worker's stack limit, and far above any real Kubernetes object.
inline constexpr size_t kMaxGuestJsonDepth = 512;

// events.k8s.io/v1 Events the host writes (server/event_object.h): the API server refuses
// longer fields (k8s.io/kubernetes pkg/apis/core/validation, events).
inline constexpr size_t kMaxEventNoteBytes = 1024;
inline constexpr size_t kMaxEventReasonBytes = 128;
inline constexpr size_t kMaxEventActionBytes = 128;
inline constexpr size_t kMaxEventReportingInstanceBytes = 128;

// Discovery (kube/discovery.h), which guests drive by the apiVersions they name.
// Group/versions whose resources are kept; the server serves a few dozen.
inline constexpr size_t kMaxDiscoveryGroupVersions = 512;
// Group/versions remembered as not served, and for how long (a CRD may be installed later).
inline constexpr size_t kMaxDiscoveryMisses = 1024;
inline constexpr int kDiscoveryMissTtlSeconds = 10;

// Field indexes of the informer caches (cache/field_index.h), declared by guests; the ABI's
// WOP_MAX_* of the same names are the same numbers. Indexes per operator, the length of an
// index's name and of a JSON pointer extractor, of one value (longer ones are not indexed),
// and values one object gives one index (more are not indexed).
inline constexpr size_t kMaxIndexesPerOperator = 16;
inline constexpr size_t kMaxIndexNameBytes = 128;
inline constexpr size_t kMaxJsonPointerBytes = 256;
inline constexpr size_t kMaxIndexValueBytes = 1024;
inline constexpr size_t kMaxIndexValuesPerObject = 64;

// Runtime.
// Bytes the host holds for one operator at a time: bodies of its API calls in flight plus
// answers queued for it. A call over the budget is refused (WOP_ERR_LIMIT); an answer that
// arrives over it is replaced by an error Status. Four answers of the largest size a guest
// can take (kMaxGuestCallBytes).
inline constexpr size_t kMaxHeldBytesPerOperator = 4 * size_t{kMaxGuestCallBytes};
// Largest work-queue key ("namespace/name"); the ABI's WOP_MAX_KEY_BYTES is the same number.
inline constexpr size_t kMaxKeyBytes = 512;
// Log volume per operator (DESIGN.md principle 9): lines and bytes a second, and the burst
// saved up for each; beyond them lines are dropped and counted, and one line a second says
// how many were.
inline constexpr double kOperatorLogLinesPerSecond = 100;
inline constexpr double kOperatorLogLineBurst = 200;
inline constexpr double kOperatorLogBytesPerSecond = 64u << 10;
inline constexpr double kOperatorLogByteBurst = 256u << 10;

// The HTTP server of the metrics and health endpoints (server/http_server.h), which anyone who
// can reach the port may talk to. Connections at a time, and from one address: a connection
// over either is accepted and closed at once.
inline constexpr unsigned kMaxHttpConnections = 64;
inline constexpr unsigned kMaxHttpConnectionsPerAddress = 16;
// Memory one connection may use for its request line, headers and read buffer; a request that
// does not fit is answered 414 or 431 and its connection closed. Probes and scrapes send a few
// hundred bytes.
inline constexpr size_t kMaxHttpConnectionBytes = 16u << 10;
// A connection that sends nothing for this long (a slow or stuck client) is closed.
inline constexpr unsigned kHttpIdleTimeoutSeconds = 10;

}  // namespace wop::limits
