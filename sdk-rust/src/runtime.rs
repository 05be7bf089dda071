//! The operator's side of each ABI entry, after the glue has turned raw (ptr, len) pairs into
//! owned values: declares the controllers, starts reconciles as tasks, delivers answers, maps
//! objects to keys. One per module instance (thread_local, see executor.rs).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::abi;
use crate::client::Client;
use crate::controller::Controller;
use crate::executor::{self, Completion};
use crate::host;
use crate::json::Value;
use crate::log;
use crate::reconcile::{Action, ReconcileResult, Request};

/// The operator's configuration: the `config` of its definition (a JSON object; `{}` if none).
#[derive(Clone, Debug)]
pub struct Config(Value);

impl Default for Config {
    fn default() -> Config {
        Config(Value::object())
    }
}

impl Config {
    pub fn new(value: Value) -> Config {
        Config(value)
    }

    /// A string member, or `default` when missing or not a string.
    pub fn string(&self, key: &str, default: &str) -> String {
        self.0.get(key).and_then(Value::as_str).unwrap_or(default).to_string()
    }

    /// An integer member, or `default` when missing or not an integer.
    pub fn int(&self, key: &str, default: i64) -> i64 {
        self.0.get(key).and_then(Value::as_i64).unwrap_or(default)
    }

    pub fn value(&self) -> &Value {
        &self.0
    }
}

/// What a reconcile may use; owned by its future, so it may be held across `.await`.
#[derive(Clone)]
pub struct Context {
    pub client: Client,
    pub config: Rc<Config>,
    /// The name of the controller this reconcile belongs to.
    pub controller: Rc<str>,
}

struct Runtime {
    config: Rc<Config>,
    controllers: BTreeMap<u32, Controller>, // by the id the host gave each
}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = RefCell::new(None);
}

/// `wop_init`: reads the config and declares what `controllers` returns for it.
pub fn init(controllers: impl FnOnce(&Config) -> Vec<Controller>) -> i32 {
    let config = Rc::new(read_config());
    let mut declared = BTreeMap::new();
    for controller in controllers(&config) {
        if controller.reconcile.is_none() {
            log::error(&format!("controller {} has no reconcile function", controller.name));
            return abi::WOP_ERR_INVALID_ARGUMENT;
        }
        let id = host::declare(&controller.declaration().to_string());
        if id < 0 {
            log::error(&format!("declaring controller {} failed: {}", controller.name, abi::status_name(id)));
            return id;
        }
        declared.insert(id as u32, controller);
    }
    RUNTIME.with(|r| *r.borrow_mut() = Some(Runtime { config, controllers: declared }));
    abi::WOP_OK
}

fn read_config() -> Config {
    let bytes = match host::config_get() {
        Ok(bytes) => bytes,
        Err(status) => {
            log::warn(&format!("could not read the config ({}); using {{}}", abi::status_name(status)));
            return Config::default();
        }
    };
    match bytes.as_str().map(Value::parse) {
        Some(Ok(value @ Value::Object(_))) => Config(value),
        _ => {
            log::warn("the config is not a JSON object; using {}");
            Config::default()
        }
    }
}

/// `wop_reconcile`: starts the reconcile of `key` as a task, which runs until it first waits.
pub fn reconcile(reconcile_id: u32, controller_id: u32, key: &str) -> i32 {
    let found = RUNTIME.with(|r| {
        let runtime = r.borrow();
        let runtime = runtime.as_ref()?;
        let controller = runtime.controllers.get(&controller_id)?;
        let context =
            Context { client: Client, config: runtime.config.clone(), controller: controller.name.as_str().into() };
        Some((controller.reconcile.clone()?, context))
    });
    let (reconcile, context) = match found {
        Some(found) => found,
        None => {
            log::error(&format!("reconcile for unknown controller id {controller_id}"));
            finish(reconcile_id, Err(crate::Error::new("unknown controller id")));
            return abi::WOP_OK;
        }
    };
    let future = reconcile(context, Request::from_key(key));
    executor::spawn(async move { finish(reconcile_id, future.await) });
    abi::WOP_OK
}

fn finish(reconcile_id: u32, result: ReconcileResult) {
    let (outcome, delay, message) = match &result {
        Ok(Action::AwaitChange) => (abi::WOP_RECONCILE_DONE, 0, ""),
        Ok(Action::RequeueAfter(delay)) => (abi::WOP_RECONCILE_REQUEUE_AFTER, millis(*delay), ""),
        Err(error) => (abi::WOP_RECONCILE_ERROR, 0, error.message()),
    };
    let status = host::reconcile_done(reconcile_id, outcome, delay, message);
    if status < 0 {
        log::error(&format!("reconcile_done({reconcile_id}) failed: {}", abi::status_name(status)));
    }
}

fn millis(delay: Duration) -> i64 {
    i64::try_from(delay.as_millis()).unwrap_or(i64::MAX).min(abi::WOP_MAX_REQUEUE_AFTER_MS)
}

/// `wop_on_complete`: hands the answer to the call waiting on `token` and runs it on.
pub fn on_complete(token: u32, http_status: i32, body: &[u8]) -> i32 {
    let completion = Completion { http_status, body: String::from_utf8_lossy(body).into_owned() };
    if token > i32::MAX as u32 || !executor::complete(token as i32, completion) {
        log::warn(&format!("completion for unknown token {token} ignored"));
    }
    abi::WOP_OK
}

/// `wop_map`: the keys of watch `watch_index`'s mapper for a changed object.
pub fn map(controller_id: u32, watch_index: u32, object: &[u8]) -> i32 {
    let mapper = RUNTIME.with(|r| r.borrow().as_ref()?.controllers.get(&controller_id)?.mapper(watch_index));
    let mapper = match mapper {
        Some(mapper) => mapper,
        None => {
            log::error(&format!("map for controller {controller_id} watch {watch_index}, which has no mapper"));
            return abi::WOP_ERR_INVALID_ARGUMENT;
        }
    };
    let object = match std::str::from_utf8(object).ok().map(Value::parse) {
        Some(Ok(object @ Value::Object(_))) => object,
        _ => {
            log::warn("map got an object that is not JSON");
            return abi::WOP_ERR_INVALID_ARGUMENT;
        }
    };
    let mut keys = mapper(&object);
    if keys.len() > abi::WOP_MAX_EMITTED_KEYS as usize {
        log::warn(&format!("mapper returned {} keys; emitting the first {}", keys.len(), abi::WOP_MAX_EMITTED_KEYS));
        keys.truncate(abi::WOP_MAX_EMITTED_KEYS as usize);
    }
    for key in keys {
        let status = host::emit_key(&key);
        if status < 0 {
            log::warn(&format!("emit_key({key}) failed: {}", abi::status_name(status)));
            return status;
        }
    }
    abi::WOP_OK
}
