//! ABI v1 (`abi/wop_abi.h`) in Rust: its numbers, its words and its imports. The header stays
//! the source of truth: `test/rust/abi_test.py` (test `rust.abi`) fails when a constant
//! here differs from the header's or one of the header's is missing.
//!
//! Only `host.rs` and `glue.rs` use the raw imports; authors use the safe API of the crate.

pub const WOP_ABI_VERSION: i32 = 1;
/// The export that declares the version (defined by `operator!`).
pub const WOP_ABI_MARKER: &str = "wop_abi_version_1";
pub const WOP_ABI_MARKER_PREFIX: &str = "wop_abi_version_";
pub const WOP_IMPORT_MODULE: &str = "wop";

// Status codes (wop_status).
pub const WOP_OK: i32 = 0;
pub const WOP_ERR_INVALID_ARGUMENT: i32 = -1;
pub const WOP_ERR_OUT_OF_BOUNDS: i32 = -2;
pub const WOP_ERR_NOT_FOUND: i32 = -3;
pub const WOP_ERR_FORBIDDEN: i32 = -4;
pub const WOP_ERR_LIMIT: i32 = -5;
pub const WOP_ERR_UNAVAILABLE: i32 = -6;
pub const WOP_ERR_BAD_STATE: i32 = -7;
pub const WOP_ERR_ALLOC_FAILED: i32 = -8;

// Log levels.
pub const WOP_LOG_DEBUG: i32 = 0;
pub const WOP_LOG_INFO: i32 = 1;
pub const WOP_LOG_WARN: i32 = 2;
pub const WOP_LOG_ERROR: i32 = 3;

// Reconcile outcomes.
pub const WOP_RECONCILE_DONE: i32 = 0;
pub const WOP_RECONCILE_REQUEUE_AFTER: i32 = 1;
pub const WOP_RECONCILE_ERROR: i32 = 2;
pub const WOP_RECONCILE_TERMINAL: i32 = 3;

// Limits.
pub const WOP_MAX_DECLARATION_BYTES: u32 = 64 * 1024;
pub const WOP_MAX_REQUEST_BYTES: u32 = 4 * 1024 * 1024;
pub const WOP_MAX_LOG_BYTES: u32 = 16 * 1024;
pub const WOP_MAX_KEY_BYTES: u32 = 512;
pub const WOP_MAX_PENDING_CALLS: u32 = 64;
pub const WOP_MAX_CONTROLLERS: u32 = 16;
pub const WOP_MAX_EMITTED_KEYS: u32 = 1024;
pub const WOP_MAX_REQUEUE_AFTER_MS: i64 = 7 * 24 * 3600 * 1000;
pub const WOP_MAX_RESYNC_SECONDS: i64 = 7 * 24 * 3600;
pub const WOP_MAX_INDEXES: u32 = 16;
pub const WOP_MAX_INDEX_NAME_BYTES: u32 = 128;
pub const WOP_MAX_JSON_POINTER_BYTES: u32 = 256;
pub const WOP_MAX_INDEX_VALUE_BYTES: u32 = 1024;
pub const WOP_MAX_INDEX_VALUES_PER_OBJECT: u32 = 64;
// Outbound HTTP (wop_http_call). The safe API does not offer it yet: the import is declared
// so the crate states the whole ABI.
pub const WOP_MAX_PENDING_HTTP_CALLS: u32 = 16;
pub const WOP_HTTP_MAX_URL_BYTES: u32 = 4096;
pub const WOP_HTTP_MAX_REQUEST_BODY_BYTES: u32 = 1024 * 1024;
pub const WOP_HTTP_DEFAULT_RESPONSE_BYTES: u32 = 1024 * 1024;
pub const WOP_HTTP_MAX_RESPONSE_BYTES: u32 = 4 * 1024 * 1024;
pub const WOP_HTTP_MAX_HEADERS: u32 = 64;
pub const WOP_HTTP_MAX_HEADER_BYTES: u32 = 8192;
pub const WOP_HTTP_MAX_HEADERS_BYTES: u32 = 32768;
pub const WOP_HTTP_DEFAULT_TIMEOUT_MS: u32 = 10000;
pub const WOP_HTTP_MAX_TIMEOUT_MS: u32 = 60000;

// The words of the declaration and request JSON.
pub const WOP_MAP_TO_SELF: &str = "self";
pub const WOP_MAP_TO_OWNER: &str = "owner";
pub const WOP_MAP_TO_FUNCTION: &str = "function";
pub const WOP_MAP_TO_NONE: &str = "none";

pub const WOP_PREDICATE_GENERATION_CHANGED: &str = "GenerationChanged";
pub const WOP_PREDICATE_LABELS_CHANGED: &str = "LabelsChanged";
pub const WOP_PREDICATE_ANNOTATIONS_CHANGED: &str = "AnnotationsChanged";

pub const WOP_INDEX_FROM_JSON_POINTER: &str = "jsonPointer";
pub const WOP_INDEX_FROM_LABEL: &str = "label";
pub const WOP_INDEX_FROM_ANNOTATION: &str = "annotation";

pub const WOP_VERB_GET: &str = "get";
pub const WOP_VERB_LIST: &str = "list";
pub const WOP_VERB_CREATE: &str = "create";
pub const WOP_VERB_UPDATE: &str = "update";
pub const WOP_VERB_UPDATE_STATUS: &str = "updateStatus";
pub const WOP_VERB_PATCH: &str = "patch";
pub const WOP_VERB_APPLY: &str = "apply";
pub const WOP_VERB_DELETE: &str = "delete";
pub const WOP_VERB_EVENT: &str = "event";

pub const WOP_PATCH_MERGE: &str = "merge";
pub const WOP_PATCH_JSON: &str = "json";
pub const WOP_PATCH_STRATEGIC: &str = "strategic";

pub const WOP_SUBRESOURCE_STATUS: &str = "status";

pub const WOP_HTTP_GET: &str = "GET";
pub const WOP_HTTP_HEAD: &str = "HEAD";
pub const WOP_HTTP_POST: &str = "POST";
pub const WOP_HTTP_PUT: &str = "PUT";
pub const WOP_HTTP_PATCH: &str = "PATCH";
pub const WOP_HTTP_DELETE: &str = "DELETE";
pub const WOP_HTTP_OPTIONS: &str = "OPTIONS";

/// The name of a status code, for messages.
pub fn status_name(status: i32) -> &'static str {
    match status {
        WOP_ERR_INVALID_ARGUMENT => "WOP_ERR_INVALID_ARGUMENT",
        WOP_ERR_OUT_OF_BOUNDS => "WOP_ERR_OUT_OF_BOUNDS",
        WOP_ERR_NOT_FOUND => "WOP_ERR_NOT_FOUND",
        WOP_ERR_FORBIDDEN => "WOP_ERR_FORBIDDEN",
        WOP_ERR_LIMIT => "WOP_ERR_LIMIT",
        WOP_ERR_UNAVAILABLE => "WOP_ERR_UNAVAILABLE",
        WOP_ERR_BAD_STATE => "WOP_ERR_BAD_STATE",
        WOP_ERR_ALLOC_FAILED => "WOP_ERR_ALLOC_FAILED",
        s if s >= 0 => "WOP_OK",
        _ => "WOP_ERR_UNKNOWN",
    }
}

/// The host functions (imports of module "wop"). Pointers are offsets into linear memory.
#[cfg(target_arch = "wasm32")]
pub mod imports {
    #[link(wasm_import_module = "wop")]
    extern "C" {
        #[link_name = "log"]
        pub fn wop_log(level: i32, msg_ptr: u32, msg_len: u32);
        #[link_name = "config_get"]
        pub fn wop_config_get(out_ptr: u32, out_len: u32) -> i32;
        #[link_name = "declare"]
        pub fn wop_declare(json_ptr: u32, json_len: u32) -> i32;
        #[link_name = "cache_read"]
        pub fn wop_cache_read(req_ptr: u32, req_len: u32, out_ptr: u32, out_len: u32) -> i32;
        #[link_name = "api_call"]
        pub fn wop_api_call(req_ptr: u32, req_len: u32) -> i32;
        #[link_name = "reconcile_done"]
        pub fn wop_reconcile_done(
            reconcile_id: u32,
            outcome: i32,
            requeue_after_ms: i64,
            msg_ptr: u32,
            msg_len: u32,
        ) -> i32;
        #[link_name = "emit_key"]
        pub fn wop_emit_key(key_ptr: u32, key_len: u32) -> i32;
        #[link_name = "http_call"]
        pub fn wop_http_call(req_ptr: u32, req_len: u32) -> i32;
    }
}
