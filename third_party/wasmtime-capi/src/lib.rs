//! Re-exports the Wasmtime C API so that this crate's cdylib carries its symbols.
pub use wasmtime_c_api::*;
