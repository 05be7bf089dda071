//! Reads from the host's cache (synchronous) and API calls (futures over host tokens).
//!
//! Cache reads keep three cases apart, as `Result<Option<_>, Error>`:
//! `Ok(Some(object))` found, `Ok(None)` not there, `Err(_)` the host could not answer
//! (FORBIDDEN: kind, namespace or selector not declared; UNAVAILABLE: cache not synced;
//! LIMIT; an answer that is not JSON). Nothing is known about the object after an error, so a
//! reconcile returns it (`?`) and the key is retried, rather than act as if it were gone.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::abi;
use crate::controller::Kind;
use crate::executor::{Completion, Waiting};
use crate::host;
use crate::json::Value;
use crate::obj;
use crate::reconcile::Error;

/// Kinds of patch (`patchType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
}

impl PatchType {
    fn word(self) -> &'static str {
        match self {
            PatchType::Merge => abi::WOP_PATCH_MERGE,
            PatchType::Json => abi::WOP_PATCH_JSON,
            PatchType::Strategic => abi::WOP_PATCH_STRATEGIC,
        }
    }
}

/// The operator's client. A zero-sized handle: the host keeps the caches and connections, and
/// every call is made as the operator's ServiceAccount.
#[derive(Clone, Copy, Debug, Default)]
pub struct Client;

fn target(kind: &Kind, namespace: &str, name: &str) -> Value {
    obj! {"apiVersion": kind.api_version, "kind": kind.kind, "namespace": namespace, "name": name}
}

/// The request's target, taken from the object itself.
fn target_of(object: &Value) -> Value {
    let field = |path: &[&str]| object.at(path).and_then(Value::as_str).unwrap_or("").to_string();
    obj! {
        "apiVersion": field(&["apiVersion"]),
        "kind": field(&["kind"]),
        "namespace": field(&["metadata", "namespace"]),
        "name": field(&["metadata", "name"]),
    }
}

fn with_body(mut request: Value, verb: &str, body: Value) -> Value {
    request.set("verb", verb);
    request.set("body", body);
    request
}

impl Client {
    /// One object from the cache (see the module's doc for the three cases).
    pub fn get(&self, kind: &Kind, namespace: &str, name: &str) -> Result<Option<Value>, Error> {
        let what = || format!("cache read of {} {}", kind.kind, join_key(namespace, name));
        self.cache_read(&target(kind, namespace, name), what)
    }

    /// The cached objects of a kind in a namespace ("" for all) matching a label selector
    /// ("" for all). An empty list is not an error.
    pub fn list(&self, kind: &Kind, namespace: &str, label_selector: &str) -> Result<Vec<Value>, Error> {
        let request = obj! {"apiVersion": kind.api_version, "kind": kind.kind, "namespace": namespace,
                            "labelSelector": label_selector};
        let scope = if namespace.is_empty() { "all namespaces" } else { namespace };
        let what = || format!("cache read of {} list in {scope}", kind.kind);
        match self.cache_read(&request, what)? {
            None => Ok(Vec::new()),
            Some(Value::Object(members)) => match members.into_iter().find(|(k, _)| k == "items") {
                Some((_, Value::Array(items))) => Ok(items),
                _ => Err(Error::new(format!("{}: no items array", what()))),
            },
            Some(_) => Err(Error::new(format!("{}: not a JSON object", what()))),
        }
    }

    fn cache_read(&self, request: &Value, what: impl Fn() -> String) -> Result<Option<Value>, Error> {
        match host::cache_read(&request.to_string()) {
            Err(abi::WOP_ERR_NOT_FOUND) => Ok(None),
            Err(status) => Err(Error::host(status, &what())),
            Ok(bytes) => match bytes.as_str().map(Value::parse) {
                Some(Ok(object @ Value::Object(_))) => Ok(Some(object)),
                _ => Err(Error::new(format!("{}: not a JSON object", what()))),
            },
        }
    }

    /// Sends any request of `wop_api_call` (abi/wop_abi.h). The helpers below build them.
    pub fn send(&self, request: Value) -> ApiCall {
        ApiCall(CallState::Unsent(request.to_string()))
    }

    pub fn create(&self, object: &Value) -> ApiCall {
        self.send(with_body(target_of(object), abi::WOP_VERB_CREATE, object.clone()))
    }

    pub fn update(&self, object: &Value) -> ApiCall {
        self.send(with_body(target_of(object), abi::WOP_VERB_UPDATE, object.clone()))
    }

    pub fn update_status(&self, object: &Value) -> ApiCall {
        self.send(with_body(target_of(object), abi::WOP_VERB_UPDATE_STATUS, object.clone()))
    }

    /// A merge patch of `object` (which names the target). Put `metadata.resourceVersion` in
    /// the patch to make it fail with a conflict if the object changed meanwhile.
    pub fn patch(&self, object: &Value, patch: Value) -> ApiCall {
        self.patch_with(target_of(object), patch, PatchType::Merge)
    }

    pub fn patch_named(
        &self,
        kind: &Kind,
        namespace: &str,
        name: &str,
        patch: Value,
        patch_type: PatchType,
    ) -> ApiCall {
        self.patch_with(target(kind, namespace, name), patch, patch_type)
    }

    fn patch_with(&self, target: Value, patch: Value, patch_type: PatchType) -> ApiCall {
        let mut request = with_body(target, abi::WOP_VERB_PATCH, patch);
        request.set("patchType", patch_type.word());
        self.send(request)
    }

    /// Server-side apply of `object` as `field_manager`.
    pub fn apply(&self, object: &Value, field_manager: &str, force: bool) -> ApiCall {
        let mut request = with_body(target_of(object), abi::WOP_VERB_APPLY, object.clone());
        request.set("fieldManager", field_manager);
        request.set("force", force);
        self.send(request)
    }

    pub fn delete(&self, kind: &Kind, namespace: &str, name: &str) -> ApiCall {
        let mut request = target(kind, namespace, name);
        request.set("verb", abi::WOP_VERB_DELETE);
        self.send(request)
    }

    /// Records a core/v1 Event about `object` ("Normal" or "Warning"); the host names it, and
    /// puts Events about cluster-scoped objects in "default", as client-go's recorder does.
    pub fn record_event(&self, object: &Value, event_type: &str, reason: &str, message: &str) -> ApiCall {
        let field = |path: &[&str]| object.at(path).and_then(Value::as_str).unwrap_or("").to_string();
        let namespace = field(&["metadata", "namespace"]);
        let mut involved = obj! {
            "apiVersion": field(&["apiVersion"]),
            "kind": field(&["kind"]),
            "name": field(&["metadata", "name"]),
            "uid": field(&["metadata", "uid"]),
            "namespace": &namespace,
        };
        let resource_version = field(&["metadata", "resourceVersion"]);
        if !resource_version.is_empty() {
            involved.set("resourceVersion", resource_version);
        }
        self.send(obj! {
            "verb": abi::WOP_VERB_EVENT,
            "apiVersion": "v1",
            "kind": "Event",
            "namespace": namespace,
            "body": obj! {"involvedObject": involved, "type": event_type, "reason": reason, "message": message},
        })
    }

    /// A GET from the API server itself, bypassing the cache.
    pub fn get_live(&self, kind: &Kind, namespace: &str, name: &str) -> ApiCall {
        let mut request = target(kind, namespace, name);
        request.set("verb", abi::WOP_VERB_GET);
        self.send(request)
    }
}

fn join_key(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// The API server's answer to a call that succeeded (HTTP 2xx).
#[derive(Clone, Debug)]
pub struct Response {
    pub status: i32,
    pub body: String,
}

impl Response {
    /// The body as JSON (the object written, or the object read).
    pub fn json(&self) -> Result<Value, Error> {
        Ok(Value::parse(&self.body)?)
    }
}

/// One API call: `wop_api_call` when first polled, then asleep until `wop_on_complete`.
/// Resolves to the response if the API server answered 2xx; otherwise to an error whose
/// `kind()` is `Http(status)` (the message from the metav1.Status) or `Host(status)` if the
/// host refused the call (bad request, too many calls pending). Dropping it before it resolves
/// abandons the answer (the call itself is not cancelled).
#[must_use = "an ApiCall does nothing until it is awaited"]
pub struct ApiCall(CallState);

enum CallState {
    Unsent(String),
    Sent(Waiting),
    Finished,
}

impl Future for ApiCall {
    type Output = Result<Response, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut self.0;
        if let CallState::Unsent(request) = this {
            let token = host::api_call(request);
            if token <= 0 {
                let status = if token == 0 { abi::WOP_ERR_BAD_STATE } else { token };
                *this = CallState::Finished;
                return Poll::Ready(Err(Error::host(status, "the host refused the call")));
            }
            *this = CallState::Sent(Waiting::new(token));
        }
        let waiting = match this {
            CallState::Sent(waiting) => waiting,
            _ => panic!("ApiCall polled after it resolved"),
        };
        match Pin::new(waiting).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(completion) => {
                *this = CallState::Finished;
                Poll::Ready(into_result(completion))
            }
        }
    }
}

fn into_result(completion: Completion) -> Result<Response, Error> {
    let Completion { http_status, body } = completion;
    if http_status < 0 {
        return Err(Error::host(http_status, "the call failed"));
    }
    if (200..300).contains(&http_status) {
        return Ok(Response { status: http_status, body });
    }
    let status = Value::parse(&body).ok();
    let reason = status.as_ref().and_then(|s| s.get("message")).and_then(Value::as_str);
    Err(Error::http(
        http_status,
        match reason {
            Some(reason) => format!("HTTP {http_status}: {reason}"),
            None => format!("HTTP {http_status}"),
        },
    ))
}
