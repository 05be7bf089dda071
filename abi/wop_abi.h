/* wasm-operator ABI, version 1: the whole interface between the host and an operator module.
 *
 * One header for both sides: the host includes it for the names and numbers; guests include
 * it for the import and export declarations (the SDK hides them in one glue file). Only
 * <stdint.h>. docs/abi.md explains every function: who allocates, who frees, lifetimes, limits.
 *
 * Conventions
 *   - Pointers are offsets into the guest's linear memory (wasm32: uint32_t); lengths are
 *     bytes. The host checks every (ptr, len) against the memory size.
 *   - Objects and requests cross as JSON text (the Kubernetes wire format), UTF-8, not
 *     NUL-terminated.
 *   - Host calls return a wop_status (negative: an error; 0: ok; positive: a token).
 *   - Host -> guest data: the host calls the guest's wop_alloc to get a buffer, writes into
 *     it and passes (ptr, len); the guest owns that buffer and frees it (free()).
 *   - Nothing blocks: a host call that needs the API server returns a token at once; the
 *     answer arrives later through the wop_on_complete export. The SDK turns this into C++20
 *     coroutines, so reconcile code reads top to bottom.
 */
#ifndef WOP_ABI_H
#define WOP_ABI_H

#include <stdint.h>

#define WOP_ABI_VERSION 1
/* A module declares its ABI version by exporting a function with this exact name. The host
 * refuses a module without it, or with only a marker of an unknown version. */
#define WOP_ABI_MARKER "wop_abi_version_1"
#define WOP_ABI_MARKER_PREFIX "wop_abi_version_"
#define WOP_IMPORT_MODULE "wop"

/* ------------------------------------------------------------------ status codes */
typedef int32_t wop_status;
enum {
  WOP_OK = 0,
  WOP_ERR_INVALID_ARGUMENT = -1, /* malformed JSON, unknown verb, bad enum value */
  WOP_ERR_OUT_OF_BOUNDS = -2,    /* a (ptr, len) outside guest memory: a broken contract */
  WOP_ERR_NOT_FOUND = -3,        /* no such object in the cache, no such token */
  WOP_ERR_FORBIDDEN = -4,        /* the operator's ServiceAccount may not do this */
  WOP_ERR_LIMIT = -5,            /* a named limit was hit (length, pending calls, keys) */
  WOP_ERR_UNAVAILABLE = -6,      /* the host cannot do it now (e.g. cache not synced) */
  WOP_ERR_BAD_STATE = -7,        /* wrong time to call (e.g. wop_declare after init) */
  WOP_ERR_ALLOC_FAILED = -8      /* the guest's wop_alloc returned 0 or an invalid range */
};

/* ------------------------------------------------------------------ log levels */
enum { WOP_LOG_DEBUG = 0, WOP_LOG_INFO = 1, WOP_LOG_WARN = 2, WOP_LOG_ERROR = 3 };

/* ------------------------------------------------------------------ reconcile outcomes */
enum {
  WOP_RECONCILE_DONE = 0,          /* success: forget the key until something changes */
  WOP_RECONCILE_REQUEUE_AFTER = 1, /* success, but look again after requeue_after_ms */
  WOP_RECONCILE_ERROR = 2,         /* failure: retry with per-key exponential backoff */
  WOP_RECONCILE_TERMINAL = 3       /* failure that retrying cannot fix: log it, count it as an
                                      error, forget the key until something changes (as
                                      controller-runtime's reconcile.TerminalError) */
};

/* ------------------------------------------------------------------ limits (bytes unless named) */
#define WOP_MAX_DECLARATION_BYTES (64u * 1024u)
#define WOP_MAX_REQUEST_BYTES (4u * 1024u * 1024u) /* one API call's JSON request */
#define WOP_MAX_LOG_BYTES (16u * 1024u)            /* one log line; longer is truncated */
#define WOP_MAX_KEY_BYTES 512u                     /* "namespace/name" */
#define WOP_MAX_PENDING_CALLS 64u                  /* API calls in flight per operator */
#define WOP_MAX_CONTROLLERS 16u                    /* per operator */
#define WOP_MAX_EMITTED_KEYS 1024u                 /* keys one wop_map call may emit */
/* Longest delay of wop_reconcile_done (7 days; longer is clamped to it), and the longest
 * resyncSeconds of a controller (7 days; longer is refused). */
#define WOP_MAX_REQUEUE_AFTER_MS (7ll * 24 * 3600 * 1000)
#define WOP_MAX_RESYNC_SECONDS (7 * 24 * 3600)
/* Field indexes (a declaration's "indexes"; see below): indexes per operator, the length of an
 * index's name and of a JSON pointer, of one value (longer values are not indexed; a read of
 * one is WOP_ERR_INVALID_ARGUMENT), and the values one object gives one index (more are not
 * indexed). */
#define WOP_MAX_INDEXES 16u
#define WOP_MAX_INDEX_NAME_BYTES 128u
#define WOP_MAX_JSON_POINTER_BYTES 256u
#define WOP_MAX_INDEX_VALUE_BYTES 1024u
#define WOP_MAX_INDEX_VALUES_PER_OBJECT 64u

/* Outbound HTTP (wop_http_call). A request over a limit is WOP_ERR_LIMIT; an answer over one
 * completes with http_status WOP_ERR_LIMIT. Bodies are counted decoded; header lines as
 * "Name: value". Timeouts cover the whole exchange. */
#define WOP_MAX_PENDING_HTTP_CALLS 16u /* HTTP calls in flight per operator */
#define WOP_HTTP_MAX_URL_BYTES 4096u
#define WOP_HTTP_MAX_REQUEST_BODY_BYTES (1u * 1024u * 1024u)
#define WOP_HTTP_DEFAULT_RESPONSE_BYTES (1u * 1024u * 1024u) /* without "maxResponseBytes" */
#define WOP_HTTP_MAX_RESPONSE_BYTES (4u * 1024u * 1024u)     /* the most it may ask */
#define WOP_HTTP_MAX_HEADERS 64u                             /* header lines, each way */
#define WOP_HTTP_MAX_HEADER_BYTES 8192u                      /* one header line */
#define WOP_HTTP_MAX_HEADERS_BYTES 32768u  /* all response header lines together */
#define WOP_HTTP_DEFAULT_TIMEOUT_MS 10000u /* without "timeoutMs" */
#define WOP_HTTP_MAX_TIMEOUT_MS 60000u     /* the most it may ask */

/* ------------------------------------------------------------------ declaration vocabulary
 * The words of the wop_declare and wop_api_call JSON, defined once: the host parses them, the
 * SDK writes them. */

/* A watch's "mapTo": where its events lead. */
#define WOP_MAP_TO_SELF "self"         /* the object's own key */
#define WOP_MAP_TO_OWNER "owner"       /* its controller owner's key, if of the "for" kind */
#define WOP_MAP_TO_FUNCTION "function" /* the keys the guest's wop_map emits */
#define WOP_MAP_TO_NONE "none"         /* cached for wop_cache_read only; wakes nobody */

/* The watch_index passed to wop_map is the watch's position in the declaration's "watches"
 * array, counted from 0 as declared. "for" and "owns" are not counted: they never reach
 * wop_map. So in {"for": A, "owns": [B, C], "watches": [D (self), E (function)]} an event of
 * E calls wop_map(controller, 1, ...). */

/* Predicates of the "for" resource: an update passes if any one listed passes. */
#define WOP_PREDICATE_GENERATION_CHANGED "GenerationChanged"
#define WOP_PREDICATE_LABELS_CHANGED "LabelsChanged"
#define WOP_PREDICATE_ANNOTATIONS_CHANGED "AnnotationsChanged"

/* Field indexes (controller-runtime's IndexField), declared in a controller's "indexes":
 *   {"apiVersion", "kind", "name": "spec.sourceRef", <one extractor>: "<argument>"}
 * The extractor says where the host takes an object's values from; it is declarative, since the
 * host keeps the index up to date on every informer event without entering the guest: */
#define WOP_INDEX_FROM_JSON_POINTER "jsonPointer" /* RFC 6901: a string, or an array of strings */
#define WOP_INDEX_FROM_LABEL "label"              /* a label key: its value */
#define WOP_INDEX_FROM_ANNOTATION "annotation"    /* an annotation key: its value */

/* wop_api_call "verb"s. */
#define WOP_VERB_GET "get"
#define WOP_VERB_LIST "list"
#define WOP_VERB_CREATE "create"
#define WOP_VERB_UPDATE "update"
#define WOP_VERB_UPDATE_STATUS "updateStatus"
#define WOP_VERB_PATCH "patch"
#define WOP_VERB_APPLY "apply" /* server-side apply */
#define WOP_VERB_DELETE "delete"
#define WOP_VERB_EVENT "event" /* creates a core/v1 Event about "involvedObject" */

/* wop_api_call "subresource" (with WOP_VERB_PATCH and WOP_VERB_APPLY only; absent or "": the
 * object itself). The only subresource a guest may name. */
#define WOP_SUBRESOURCE_STATUS "status"

/* wop_api_call "patchType"s (with WOP_VERB_PATCH). */
#define WOP_PATCH_MERGE "merge"         /* application/merge-patch+json (the default) */
#define WOP_PATCH_JSON "json"           /* application/json-patch+json */
#define WOP_PATCH_STRATEGIC "strategic" /* application/strategic-merge-patch+json */

/* wop_http_call "method"s. */
#define WOP_HTTP_GET "GET"
#define WOP_HTTP_HEAD "HEAD"
#define WOP_HTTP_POST "POST"
#define WOP_HTTP_PUT "PUT"
#define WOP_HTTP_PATCH "PATCH"
#define WOP_HTTP_DELETE "DELETE"
#define WOP_HTTP_OPTIONS "OPTIONS"

#ifdef __wasm__
#define WOP_IMPORT(name) __attribute__((import_module(WOP_IMPORT_MODULE), import_name(#name)))
#define WOP_EXPORT(name) __attribute__((export_name(#name)))
#else
#define WOP_IMPORT(name)
#define WOP_EXPORT(name)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================== host functions (imports)
 * Declared for guests; the host implements them in host/src/hostcalls/. */
#ifdef __wasm__

/* Writes one log line, attributed to the operator. */
WOP_IMPORT(log) void wop_log(int32_t level, uint32_t msg_ptr, uint32_t msg_len);

/* The operator's configuration (the `config` of its definition) as JSON: the host allocates
 * with wop_alloc and writes (ptr, len) to *out_ptr, *out_len. "{}" if none. */
WOP_IMPORT(config_get) wop_status wop_config_get(uint32_t out_ptr, uint32_t out_len);

/* Declares a controller (only during wop_init). JSON:
 *   {"name": "ring",
 *    "for": {"apiVersion": "...", "kind": "...", "namespace": "", "labelSelector": "",
 *            "predicates": ["GenerationChanged" | "LabelsChanged" | "AnnotationsChanged"]},
 *    "owns": [{"apiVersion", "kind", "namespace", "labelSelector"}],   -> owner's key
 *    "watches": [{"apiVersion", "kind", "namespace", "labelSelector",
 *                 "mapTo": "self" | "owner" | "function" | "none"}],     -> WOP_MAP_TO_*
 *    ("none": cached for wop_cache_read, never wakes the operator)
 *    "indexes": [{"apiVersion", "kind", "name", "jsonPointer" | "label" | "annotation"}],
 *    (WOP_INDEX_FROM_*; the kind must be one this controller watches)
 *    "maxConcurrentReconciles": 1, "resyncSeconds": 0}
 * Returns the controller id (>= 0) or an error. */
WOP_IMPORT(declare) wop_status wop_declare(uint32_t json_ptr, uint32_t json_len);

/* Reads from the host's informer cache (synchronous, served from memory). Request JSON:
 *   {"apiVersion", "kind", "namespace", "name"}                       -> the object
 *   {"apiVersion", "kind", "namespace", "labelSelector"} (no "name")  -> {"items": [...]}
 *   {"apiVersion", "kind", "namespace", "index", "value"}            -> {"items": [...]}
 * (the objects whose index "index" has "value": controller-runtime's MatchingFields).
 * Only kinds the operator declared are cached. The result is written like wop_config_get.
 * Allowed in wop_reconcile, wop_on_complete and wop_map (a mapper may read the cache). */
WOP_IMPORT(cache_read) wop_status wop_cache_read(uint32_t req_ptr, uint32_t req_len,
                                                 uint32_t out_ptr, uint32_t out_len);

/* Starts an API call; returns a token (> 0) at once, or an error. Request JSON:
 *   {"verb": "get" | "list" | "create" | "update" | "updateStatus" | "patch" | "apply" |
 *             "delete" | "event",
 *    "apiVersion", "kind", "namespace", "name", "body": <object or patch>,
 *    "patchType": "merge" | "json" | "strategic", "fieldManager", "force": bool,
 *    "subresource": "status" (patch and apply only),
 *    "propagationPolicy", "labelSelector", "resourceVersion", "resourceVersionMatch"}
 * "event" body: {"involvedObject": {...ref...}, "type": "Normal"|"Warning", "reason", "message"}.
 * The call is made as the operator's ServiceAccount. Its answer comes via wop_on_complete. */
WOP_IMPORT(api_call) wop_status wop_api_call(uint32_t req_ptr, uint32_t req_len);

/* Starts an outbound HTTPS request to a host the operator's spec.allowedHosts lists; returns a
 * token (> 0) at once, or an error. Request JSON:
 *   {"method": "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS",
 *    "url": "https://host[:port]/path?query",
 *    "headers": [["Name", "value"], ...], "body": "<base64>",
 *    "timeoutMs": 10000, "maxResponseBytes": 1048576}
 * Only "url" is required (method GET). The answer comes via wop_on_complete with http_status
 * the response's status (or a negative wop_status when none came: refused, unreachable,
 * timed out, over a limit) and the body JSON {"status": 200, "headers": [["name", "value"],
 * ...], "body": "<base64>"} (names lower-case), or on error {"error": "why"}. No redirect is
 * followed. Limits: WOP_HTTP_*, WOP_MAX_PENDING_HTTP_CALLS. docs/abi.md has the rules. */
WOP_IMPORT(http_call) wop_status wop_http_call(uint32_t req_ptr, uint32_t req_len);

/* Ends the reconcile started by wop_reconcile(reconcile_id, ...). outcome is a
 * WOP_RECONCILE_*; requeue_after_ms is used with WOP_RECONCILE_REQUEUE_AFTER (and as a
 * minimum delay with ERROR if > 0); (msg_ptr, msg_len) explains an error (may be 0, 0). */
WOP_IMPORT(reconcile_done) wop_status wop_reconcile_done(uint32_t reconcile_id, int32_t outcome,
                                                         int64_t requeue_after_ms, uint32_t msg_ptr,
                                                         uint32_t msg_len);

/* From inside wop_map only: one key ("namespace/name") to reconcile. */
WOP_IMPORT(emit_key) wop_status wop_emit_key(uint32_t key_ptr, uint32_t key_len);

#endif /* __wasm__ */

/* The host functions above by import name (module WOP_IMPORT_MODULE), for code that checks a
 * module's imports: `const char* names[] = {WOP_HOST_FUNCTION_NAMES};`. */
#define WOP_HOST_FUNCTION_NAMES                                                           \
  "log", "config_get", "declare", "cache_read", "api_call", "reconcile_done", "emit_key", \
      "http_call"

/* ================================================================== guest functions (exports)
 * Every operator module exports these (the SDK provides them). */

/* The version marker (WOP_ABI_MARKER); never called. */
/*   void wop_abi_version_1(void); */

/* Allocates len bytes the host will fill; returns 0 on failure. The guest frees them. */
/*   uint32_t wop_alloc(uint32_t len); */

/* Called once after _initialize: declare controllers (wop_declare). Returns WOP_OK. */
/*   int32_t wop_init(void); */

/* Reconciles key (the host-written buffer at key_ptr, owned by the guest) of controller_id.
 * Must eventually call wop_reconcile_done(reconcile_id, ...), now or after API calls
 * complete. Returns WOP_OK (even if the reconcile is still waiting). */
/*   int32_t wop_reconcile(uint32_t reconcile_id, uint32_t controller_id,
 *                         uint32_t key_ptr, uint32_t key_len); */

/* Delivers the answer to the API call or HTTP call `token` (one sequence of tokens for both):
 * http_status (200, 201, 404, 409, ...) or, when no HTTP answer exists, a negative wop_status;
 * (body_ptr, body_len) is the response body (an object, a list or a metav1.Status), host-allocated,
 * owned by the guest. */
/*   int32_t wop_on_complete(uint32_t token, int32_t http_status,
 *                           uint32_t body_ptr, uint32_t body_len); */

/* For watches declared with "mapTo": "function": maps a changed object to keys by calling
 * wop_emit_key. watch_index is the watch's position in the "watches" array of controller_id's
 * declaration ("for" and "owns" not counted; see WOP_MAP_TO_*). (obj_ptr, obj_len) is
 * host-allocated, owned by the guest. */
/*   int32_t wop_map(uint32_t controller_id, uint32_t watch_index,
 *                   uint32_t obj_ptr, uint32_t obj_len); */

#ifdef __cplusplus
}
#endif

#endif /* WOP_ABI_H */
