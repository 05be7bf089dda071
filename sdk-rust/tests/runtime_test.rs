//! The runtime and executor against the fake host (wop::testing): the test plays the host,
//! calling the entries the glue would and answering calls by token.

use wop::abi::*;
use wop::prelude::*;
use wop::runtime;
use wop::testing::fake;

const THING: Kind = Kind::new("example.dev/v1", "Thing");

/// Reads the thing, then writes a copy into "out" and waits for the answer.
async fn copy_thing(ctx: Context, req: Request) -> ReconcileResult {
    let thing = match ctx.client.get(&THING, &req.namespace, &req.name)? {
        Some(thing) => thing,
        None => return Ok(Action::AwaitChange),
    };
    let copy = obj! {"apiVersion": THING.api_version, "kind": THING.kind,
                     "metadata": obj! {"namespace": "out", "name": &req.name}, "spec": thing.get("spec")};
    ctx.client.create(&copy).await?;
    Ok(Action::AwaitChange)
}

fn controllers(config: &Config) -> Vec<Controller> {
    vec![Controller::new("copy")
        .for_resource(THING.in_namespace(&config.string("input", "in")))
        .watches(THING.in_namespace("out"), MapTo::CacheOnly)
        .watches_mapped(THING.everywhere().with_labels("a=b"), |object| {
            vec![format!("in/{}", object.at(&["metadata", "name"]).and_then(Value::as_str).unwrap_or(""))]
        })
        .reconcile(copy_thing)]
}

fn start() {
    fake::reset(r#"{"input": "in"}"#);
    assert_eq!(runtime::init(controllers), WOP_OK);
}

fn thing(name: &str, nonce: i64) -> Value {
    obj! {"metadata": obj! {"namespace": "in", "name": name}, "spec": obj! {"nonce": nonce}}
}

#[test]
fn declares_the_controller_with_the_abi_words() {
    start();
    assert_eq!(
        fake::declarations()[0].to_string(),
        concat!(
            r#"{"name":"copy","for":{"apiVersion":"example.dev/v1","kind":"Thing","namespace":"in","#,
            r#""labelSelector":"","predicates":[]},"owns":[],"watches":[{"apiVersion":"example.dev/v1","#,
            r#""kind":"Thing","namespace":"out","labelSelector":"","mapTo":"none"},{"apiVersion":"example.dev/v1","#,
            r#""kind":"Thing","namespace":"","labelSelector":"a=b","mapTo":"function"}],"#,
            r#""maxConcurrentReconciles":1,"resyncSeconds":0}"#
        )
    );
}

#[test]
fn a_reconcile_waits_for_its_answer_without_ending() {
    start();
    fake::put(&THING, "in", "a", Ok(thing("a", 7)));
    runtime::reconcile(11, 0, "in/a");
    let calls = fake::take_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1.get("verb").and_then(Value::as_str), Some("create"));
    assert_eq!(calls[0].1.at(&["body", "spec", "nonce"]).and_then(Value::as_i64), Some(7));
    assert!(fake::take_done().is_empty(), "ended before its answer came");
    assert_eq!(fake::in_flight(), (1, 1));

    runtime::on_complete(calls[0].0 as u32, 201, b"{}");
    assert_eq!(fake::take_done(), vec![(11, WOP_RECONCILE_DONE, String::new())]);
    assert_eq!(fake::in_flight(), (0, 0));
}

#[test]
fn answers_in_any_order_resume_their_own_reconciles() {
    start();
    fake::put(&THING, "in", "a", Ok(thing("a", 1)));
    fake::put(&THING, "in", "b", Ok(thing("b", 2)));
    runtime::reconcile(1, 0, "in/a");
    runtime::reconcile(2, 0, "in/b");
    let calls = fake::take_calls();
    runtime::on_complete(calls[1].0 as u32, 201, b"{}");
    assert_eq!(fake::take_done(), vec![(2, WOP_RECONCILE_DONE, String::new())]);
    runtime::on_complete(calls[0].0 as u32, 409, br#"{"kind":"Status","message":"already exists"}"#);
    assert_eq!(fake::take_done(), vec![(1, WOP_RECONCILE_ERROR, "HTTP 409: already exists".to_string())]);
}

#[test]
fn a_missing_object_is_done_and_a_failed_read_is_an_error() {
    start();
    runtime::reconcile(1, 0, "in/gone");
    assert_eq!(fake::take_done(), vec![(1, WOP_RECONCILE_DONE, String::new())]);

    fake::put(&THING, "in", "hidden", Err(WOP_ERR_FORBIDDEN));
    runtime::reconcile(2, 0, "in/hidden");
    assert_eq!(
        fake::take_done(),
        vec![(2, WOP_RECONCILE_ERROR, "cache read of Thing in/hidden: WOP_ERR_FORBIDDEN".to_string())]
    );
    assert!(fake::take_calls().is_empty());
}

#[test]
fn a_call_the_host_refuses_fails_the_reconcile_at_once() {
    start();
    fake::put(&THING, "in", "a", Ok(thing("a", 1)));
    runtime::reconcile(1, 0, "in/a");
    let token = fake::take_calls()[0].0 as u32;
    runtime::on_complete(token, WOP_ERR_UNAVAILABLE, b"");
    assert_eq!(fake::take_done(), vec![(1, WOP_RECONCILE_ERROR, "the call failed: WOP_ERR_UNAVAILABLE".to_string())]);
}

#[test]
fn an_unknown_token_is_ignored_with_a_warning() {
    start();
    assert_eq!(runtime::on_complete(99, 200, b"{}"), WOP_OK);
    assert_eq!(fake::take_logs(), vec![(WOP_LOG_WARN, "completion for unknown token 99 ignored".to_string())]);
}

#[test]
fn a_mapped_watch_emits_the_mappers_keys() {
    start();
    assert_eq!(runtime::map(0, 1, br#"{"metadata":{"name":"x"}}"#), WOP_OK);
    assert_eq!(fake::take_emitted(), vec!["in/x".to_string()]);
    assert_eq!(runtime::map(0, 0, br#"{}"#), WOP_ERR_INVALID_ARGUMENT); // cache-only: no mapper
    assert_eq!(runtime::map(0, 1, b"not json"), WOP_ERR_INVALID_ARGUMENT);
}

#[test]
fn an_unknown_controller_ends_its_reconcile_with_an_error() {
    start();
    runtime::reconcile(5, 3, "in/a");
    assert_eq!(fake::take_done(), vec![(5, WOP_RECONCILE_ERROR, "unknown controller id".to_string())]);
}

#[test]
fn an_event_names_its_object_and_is_sent_as_the_event_verb() {
    start();
    let metadata = obj! {"namespace": "in", "name": "a", "uid": "u-1", "resourceVersion": "7"};
    let object = obj! {"apiVersion": "example.dev/v1", "kind": "Thing", "metadata": metadata};
    fake::spawn(async move {
        let _ = Client.record_event(&object, "Warning", "Broken", "it broke").await;
    });
    let calls = fake::take_calls();
    assert_eq!(
        calls[0].1.to_string(),
        concat!(
            r#"{"verb":"event","apiVersion":"v1","kind":"Event","namespace":"in","body":{"involvedObject":"#,
            r#"{"apiVersion":"example.dev/v1","kind":"Thing","name":"a","uid":"u-1","namespace":"in","#,
            r#""resourceVersion":"7"},"#,
            r#""type":"Warning","reason":"Broken","message":"it broke"}}"#
        )
    );
}
