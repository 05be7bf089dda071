//! ring: the ring benchmark's operator (DESIGN.md), in Rust. It watches TestResources in its
//! input namespace and carries each one's spec.nonce to the same-named TestResource in its
//! output namespace, creating it if missing and raising its nonce if lower; never lowering it.
//! Config: {"inputNamespace": "ring-0", "outputNamespace": "ring-1"}.
use std::rc::Rc;

use wop::prelude::*;

const TEST_RESOURCE: Kind = Kind::new("bench.wasm-operator.dev/v1", "TestResource");

fn controllers(config: &Config) -> Vec<Controller> {
    let input = config.string("inputNamespace", "ring-0");
    let output: Rc<str> = config.string("outputNamespace", "ring-1").into();
    vec![Controller::new("ring")
        .for_resource(TEST_RESOURCE.in_namespace(&input))
        // Only so the output namespace is cached for reads: never wakes us.
        .watches(TEST_RESOURCE.in_namespace(&output), MapTo::CacheOnly)
        .reconcile(move |ctx, req| reconcile(ctx, req, output.clone()))]
}

fn nonce(object: &Value) -> i64 {
    object.at(&["spec", "nonce"]).and_then(Value::as_i64).unwrap_or(0)
}

async fn reconcile(ctx: Context, req: Request, output: Rc<str>) -> ReconcileResult {
    let source = match ctx.client.get(&TEST_RESOURCE, &req.namespace, &req.name)? {
        Some(source) => source,
        None => return Ok(Action::AwaitChange), // deleted: nonces only go forward
    };
    let nonce = nonce(&source);
    match ctx.client.get(&TEST_RESOURCE, &output, &req.name)? {
        None => {
            let target = obj! {
                "apiVersion": TEST_RESOURCE.api_version,
                "kind": TEST_RESOURCE.kind,
                "metadata": obj! {"namespace": &*output, "name": &req.name},
                "spec": obj! {"nonce": nonce},
            };
            ctx.client.create(&target).await?;
        }
        Some(target) if self::nonce(&target) < nonce => {
            // Guarded by resourceVersion: if someone raced us, retry from fresh state.
            let resource_version = target.at(&["metadata", "resourceVersion"]).cloned().unwrap_or(Value::Null);
            let patch = obj! {"metadata": obj! {"resourceVersion": resource_version}, "spec": obj! {"nonce": nonce}};
            ctx.client.patch(&target, patch).await?;
        }
        Some(_) => return Ok(Action::AwaitChange), // already as high
    }
    wop::debug!("{}/{}: nonce {}", output, req.name, nonce);
    Ok(Action::AwaitChange)
}

wop::operator!(controllers);
