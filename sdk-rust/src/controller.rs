//! Controllers: what an operator watches and the function that reconciles it. The builder
//! writes the `wop_declare` JSON (abi/wop_abi.h); watches keep their declared order, which is
//! the watch index `wop_map` is called with.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use crate::abi;
use crate::json::Value;
use crate::obj;
use crate::reconcile::{ReconcileResult, Request};
use crate::Context;

/// A Kubernetes kind: `Kind::new("apps/v1", "Deployment")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub api_version: &'static str,
    pub kind: &'static str,
}

impl Kind {
    pub const fn new(api_version: &'static str, kind: &'static str) -> Kind {
        Kind { api_version, kind }
    }

    /// This kind in one namespace.
    pub fn in_namespace(self, namespace: &str) -> Resource {
        Resource { kind: self, namespace: namespace.to_string(), label_selector: String::new() }
    }

    /// This kind in all namespaces (or a cluster-scoped kind).
    pub fn everywhere(self) -> Resource {
        self.in_namespace("")
    }
}

/// What a controller watches: a kind, a namespace ("" for all) and a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub kind: Kind,
    pub namespace: String,
    pub label_selector: String,
}

impl Resource {
    pub fn with_labels(mut self, selector: &str) -> Resource {
        self.label_selector = selector.to_string();
        self
    }

    fn declaration(&self) -> Value {
        obj! {"apiVersion": self.kind.api_version, "kind": self.kind.kind,
              "namespace": &self.namespace, "labelSelector": &self.label_selector}
    }
}

/// Where the events of a watch lead (its `mapTo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapTo {
    /// The object's own key.
    Itself,
    /// Its controller owner's key, if the owner is of the "for" kind.
    Owner,
    /// Cached for reads only: wakes nobody.
    CacheOnly,
}

/// Which updates of the "for" resource wake the controller (any one listed passes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Predicate {
    GenerationChanged,
    LabelsChanged,
    AnnotationsChanged,
}

pub(crate) type BoxedReconcile = Pin<Box<dyn Future<Output = ReconcileResult>>>;
pub(crate) type ReconcileFn = Rc<dyn Fn(Context, Request) -> BoxedReconcile>;
/// Maps a changed object of a watch to the keys ("namespace/name") to reconcile.
pub type Mapper = Rc<dyn Fn(&Value) -> Vec<String>>;

struct Watch {
    resource: Resource,
    map_to: &'static str,
    mapper: Option<Mapper>,
}

/// A controller: `Controller::new("ring").for_resource(..).watches(..).reconcile(f)`.
pub struct Controller {
    pub(crate) name: String,
    for_resource: Option<Resource>,
    predicates: Vec<Predicate>,
    owns: Vec<Resource>,
    watches: Vec<Watch>,
    max_concurrent_reconciles: u32,
    resync_seconds: i64,
    pub(crate) reconcile: Option<ReconcileFn>,
}

impl Controller {
    pub fn new(name: &str) -> Controller {
        Controller {
            name: name.to_string(),
            for_resource: None,
            predicates: Vec::new(),
            owns: Vec::new(),
            watches: Vec::new(),
            max_concurrent_reconciles: 1,
            resync_seconds: 0,
            reconcile: None,
        }
    }

    /// The primary resource: its keys are what the controller reconciles.
    pub fn for_resource(mut self, resource: Resource) -> Controller {
        self.for_resource = Some(resource);
        self
    }

    pub fn predicates(mut self, predicates: &[Predicate]) -> Controller {
        self.predicates = predicates.to_vec();
        self
    }

    /// Objects this controller creates and owns: their events reconcile the owner.
    pub fn owns(mut self, resource: Resource) -> Controller {
        self.owns.push(resource);
        self
    }

    pub fn watches(mut self, resource: Resource, map_to: MapTo) -> Controller {
        let map_to = match map_to {
            MapTo::Itself => abi::WOP_MAP_TO_SELF,
            MapTo::Owner => abi::WOP_MAP_TO_OWNER,
            MapTo::CacheOnly => abi::WOP_MAP_TO_NONE,
        };
        self.watches.push(Watch { resource, map_to, mapper: None });
        self
    }

    /// A watch whose events reconcile the keys `mapper` returns (at most WOP_MAX_EMITTED_KEYS).
    pub fn watches_mapped(
        mut self,
        resource: Resource,
        mapper: impl Fn(&Value) -> Vec<String> + 'static,
    ) -> Controller {
        self.watches.push(Watch { resource, map_to: abi::WOP_MAP_TO_FUNCTION, mapper: Some(Rc::new(mapper)) });
        self
    }

    pub fn max_concurrent_reconciles(mut self, count: u32) -> Controller {
        self.max_concurrent_reconciles = count;
        self
    }

    /// Reconcile every key again this often even if nothing changed (0: never).
    pub fn resync_seconds(mut self, seconds: i64) -> Controller {
        self.resync_seconds = seconds;
        self
    }

    /// The reconcile function: an async fn (or closure returning a future) of the context and
    /// the key. Its future may await API calls; it runs on the module's one thread.
    pub fn reconcile<F, Fut>(mut self, f: F) -> Controller
    where
        F: Fn(Context, Request) -> Fut + 'static,
        Fut: Future<Output = ReconcileResult> + 'static,
    {
        self.reconcile = Some(Rc::new(move |ctx, req| Box::pin(f(ctx, req)) as BoxedReconcile));
        self
    }

    pub(crate) fn mapper(&self, watch_index: u32) -> Option<Mapper> {
        self.watches.get(watch_index as usize).and_then(|w| w.mapper.clone())
    }

    /// The `wop_declare` JSON.
    pub fn declaration(&self) -> Value {
        let mut for_resource = self.for_resource.as_ref().map(Resource::declaration).unwrap_or_else(Value::object);
        let predicates: Vec<Value> = self
            .predicates
            .iter()
            .map(|p| {
                Value::from(match p {
                    Predicate::GenerationChanged => abi::WOP_PREDICATE_GENERATION_CHANGED,
                    Predicate::LabelsChanged => abi::WOP_PREDICATE_LABELS_CHANGED,
                    Predicate::AnnotationsChanged => abi::WOP_PREDICATE_ANNOTATIONS_CHANGED,
                })
            })
            .collect();
        for_resource.set("predicates", predicates);
        let owns: Vec<Value> = self.owns.iter().map(Resource::declaration).collect();
        let watches: Vec<Value> = self
            .watches
            .iter()
            .map(|w| {
                let mut entry = w.resource.declaration();
                entry.set("mapTo", w.map_to);
                entry
            })
            .collect();
        obj! {
            "name": &self.name,
            "for": for_resource,
            "owns": owns,
            "watches": watches,
            "maxConcurrentReconciles": self.max_concurrent_reconciles,
            "resyncSeconds": self.resync_seconds,
        }
    }
}
