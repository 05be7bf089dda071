//! What a reconcile gets and returns: a key, and `Result<Action, Error>`, as in kube-rs.

use std::fmt;
use std::time::Duration;

use crate::abi;

/// The key of the object to reconcile: "namespace/name", or "name" for cluster-scoped kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub namespace: String, // "" for a cluster-scoped object
    pub name: String,
}

impl Request {
    pub fn from_key(key: &str) -> Request {
        match key.split_once('/') {
            Some((namespace, name)) => Request { namespace: namespace.to_string(), name: name.to_string() },
            None => Request { namespace: String::new(), name: key.to_string() },
        }
    }
}

/// A successful reconcile's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Forget the key until something it watches changes.
    AwaitChange,
    /// Look again after this delay (clamped by the host to WOP_MAX_REQUEUE_AFTER_MS).
    RequeueAfter(Duration),
}

/// A failed reconcile or call. Returned from a reconcile, the key is retried with per-key
/// exponential backoff; the message goes to the operator's log and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The host refused or could not answer: a negative wop_status.
    Host(i32),
    /// The API server answered with this HTTP status (not 2xx).
    Http(i32),
    /// Anything else (an answer that is not JSON, the operator's own reasons).
    Other,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error { kind: ErrorKind::Other, message: message.into() }
    }

    pub(crate) fn host(status: i32, what: &str) -> Error {
        Error { kind: ErrorKind::Host(status), message: format!("{what}: {}", abi::status_name(status)) }
    }

    pub(crate) fn http(status: i32, message: String) -> Error {
        Error { kind: ErrorKind::Http(status), message }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The API server said 404: the object is not there.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::Http(404)
    }

    /// The API server said 409: a conflict (stale resourceVersion, or it already exists).
    pub fn is_conflict(&self) -> bool {
        self.kind == ErrorKind::Http(409)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<crate::json::ParseError> for Error {
    fn from(e: crate::json::ParseError) -> Error {
        Error::new(e.to_string())
    }
}

/// What a reconcile returns.
pub type ReconcileResult = Result<Action, Error>;
