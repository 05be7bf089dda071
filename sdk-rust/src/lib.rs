//! `wop`: write wasm-operator operators in Rust (docs/sdk-rust.md).
//!
//! An operator is a `cdylib` crate built for `wasm32-wasi` that names its controllers once:
//!
//! ```ignore
//! const CONFIG_MAP: Kind = Kind::new("v1", "ConfigMap");
//!
//! fn controllers(config: &Config) -> Vec<Controller> {
//!     vec![Controller::new("example")
//!         .for_resource(CONFIG_MAP.in_namespace(&config.string("namespace", "default")))
//!         .reconcile(reconcile)]
//! }
//!
//! async fn reconcile(ctx: Context, req: Request) -> ReconcileResult {
//!     let object = match ctx.client.get(&CONFIG_MAP, &req.namespace, &req.name)? {
//!         Some(object) => object,
//!         None => return Ok(Action::AwaitChange), // deleted
//!     };
//!     ctx.client.patch(&object, obj! {"metadata": obj! {"labels": obj! {"seen": "yes"}}}).await?;
//!     Ok(Action::AwaitChange)
//! }
//!
//! wop::operator!(controllers);
//! ```
//!
//! Reconciles are futures on a single-threaded executor driven by the host: an API call returns
//! a token at once and the reconcile sleeps, holding no thread, until the host delivers the
//! answer. Cache reads answer at once. Objects are [`json::Value`]s, the Kubernetes wire format.

pub mod abi;
pub mod client;
pub mod controller;
mod executor;
#[doc(hidden)]
pub mod glue;
mod host;
pub mod json;
pub mod log;
pub mod reconcile;
#[doc(hidden)]
pub mod runtime;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use client::{ApiCall, Client, PatchType, Response};
pub use controller::{Controller, Kind, MapTo, Predicate, Resource};
pub use json::Value;
pub use reconcile::{Action, Error, ErrorKind, ReconcileResult, Request};
pub use runtime::{Config, Context};

/// Everything an operator usually needs: `use wop::prelude::*;`.
pub mod prelude {
    pub use crate::{
        obj, Action, Client, Config, Context, Controller, Error, Kind, MapTo, ReconcileResult, Request, Value,
    };
}
