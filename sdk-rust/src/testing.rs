//! A fake host for `cargo test` on the build machine (not built for wasm32): what the host
//! functions did is recorded, cache reads are answered from objects the test put there, and
//! the test plays the host's part by calling the `runtime` entries itself:
//!
//! ```ignore
//! fake::reset(r#"{"outputNamespace": "b"}"#);
//! fake::put(&kind, "a", "x", object);
//! wop::runtime::init(controllers);
//! wop::runtime::reconcile(1, 0, "a/x");
//! let (token, request) = fake::take_calls().remove(0);
//! wop::runtime::on_complete(token as u32, 201, b"{}");
//! assert_eq!(fake::take_done(), vec![(1, WOP_RECONCILE_DONE, String::new())]);
//! ```
#![cfg(not(target_arch = "wasm32"))]

pub mod fake {
    use std::cell::RefCell;

    use crate::abi;
    use crate::controller::Kind;
    use crate::host::HostBytes;
    use crate::json::Value;

    #[derive(Default)]
    struct FakeHost {
        config: String,
        objects: Vec<((String, String, String), Result<Value, i32>)>, // (kind, ns, name)
        logs: Vec<(i32, String)>,
        declarations: Vec<Value>,
        calls: Vec<(i32, Value)>,
        done: Vec<(u32, i32, String)>,
        emitted: Vec<String>,
        next_token: i32,
    }

    thread_local! {
        static HOST: RefCell<FakeHost> = RefCell::new(FakeHost::default());
    }

    fn with<R>(f: impl FnOnce(&mut FakeHost) -> R) -> R {
        HOST.with(|h| f(&mut h.borrow_mut()))
    }

    /// A fresh host whose config_get answers `config`.
    pub fn reset(config: &str) {
        with(|h| *h = FakeHost { config: config.to_string(), next_token: 1, ..FakeHost::default() });
    }

    /// Makes cache reads of (kind, namespace, name) answer `object`, or fail with a wop_status.
    pub fn put(kind: &Kind, namespace: &str, name: &str, object: Result<Value, i32>) {
        let key = (kind.kind.to_string(), namespace.to_string(), name.to_string());
        with(|h| {
            h.objects.retain(|(k, _)| *k != key);
            h.objects.push((key, object));
        });
    }

    pub fn take_logs() -> Vec<(i32, String)> {
        with(|h| std::mem::take(&mut h.logs))
    }
    pub fn declarations() -> Vec<Value> {
        with(|h| h.declarations.clone())
    }
    /// The API calls started since the last take: (token, request).
    pub fn take_calls() -> Vec<(i32, Value)> {
        with(|h| std::mem::take(&mut h.calls))
    }
    /// The reconciles ended since the last take: (reconcile id, outcome, message).
    pub fn take_done() -> Vec<(u32, i32, String)> {
        with(|h| std::mem::take(&mut h.done))
    }
    /// Runs `future` on the module's executor until it first waits, as a reconcile would run:
    /// to test a helper of one's own that awaits calls.
    pub fn spawn(future: impl std::future::Future<Output = ()> + 'static) {
        crate::executor::spawn(future);
    }

    /// Reconciles still running (waiting on answers), and calls waiting for an answer.
    pub fn in_flight() -> (usize, usize) {
        crate::executor::counts()
    }
    pub fn take_emitted() -> Vec<String> {
        with(|h| std::mem::take(&mut h.emitted))
    }

    // The host functions, as host.rs calls them.

    pub(crate) fn log(level: i32, message: &str) {
        with(|h| h.logs.push((level, message.to_string())));
    }
    pub(crate) fn config_get() -> Result<HostBytes, i32> {
        Ok(HostBytes::copy_of(with(|h| h.config.clone()).as_bytes()))
    }
    pub(crate) fn declare(declaration: &str) -> i32 {
        let value = Value::parse(declaration).expect("the SDK declares valid JSON");
        with(|h| {
            h.declarations.push(value);
            h.declarations.len() as i32 - 1
        })
    }
    pub(crate) fn cache_read(request: &str) -> Result<HostBytes, i32> {
        let request = Value::parse(request).expect("the SDK reads with valid JSON");
        let field = |k: &str| request.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let key = (field("kind"), field("namespace"), field("name"));
        let answer = with(|h| h.objects.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()));
        match answer {
            Some(Ok(object)) => Ok(HostBytes::copy_of(object.to_string().as_bytes())),
            Some(Err(status)) => Err(status),
            None => Err(abi::WOP_ERR_NOT_FOUND),
        }
    }
    pub(crate) fn api_call(request: &str) -> i32 {
        let request = Value::parse(request).expect("the SDK calls with valid JSON");
        with(|h| {
            let token = h.next_token;
            h.next_token += 1;
            h.calls.push((token, request));
            token
        })
    }
    pub(crate) fn reconcile_done(reconcile_id: u32, outcome: i32, _requeue_after_ms: i64, message: &str) -> i32 {
        with(|h| h.done.push((reconcile_id, outcome, message.to_string())));
        abi::WOP_OK
    }
    pub(crate) fn emit_key(key: &str) -> i32 {
        with(|h| h.emitted.push(key.to_string()));
        abi::WOP_OK
    }
}
