//! The web client in a real browser (headless Chromium via `wasm-pack test --headless
//! --chrome`) against the real worker in workerd. `REGISTRY_URL` (compile time) names the
//! worker; `scripts/test.sh` starts one. Each test uses a registry of its own.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::future::Future;
use std::panic::Location;
use std::rc::Rc;

use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Object, Promise, Reflect};
use registry_web::RegistryClient;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The WebSocket transport: watches, queries, requests with outcomes, validators, fallback and
/// lossless reconnects.
#[path = "browser/streams.rs"]
mod streams;

const WORKER: &str = match option_env!("REGISTRY_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

fn registry() -> String {
    let id = (js_sys::Math::random() * 1e12) as u64;
    format!("{WORKER}/r/browser-{id}")
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap()
}

/// Calls `obj.method(...args)` as JS would.
fn call(obj: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    let f: Function = get(obj, method).dyn_into().expect("a method");
    f.apply(obj, &args.iter().collect::<Array>())
        .expect("call succeeds")
}

/// How long a test waits for a promise or a stream item before it fails.
const DEADLINE_MS: u32 = 10_000;

/// `fut`'s output, or `None` if it is not ready within `ms`.
async fn within<T>(ms: u32, fut: impl Future<Output = T>) -> Option<T> {
    match select(Box::pin(fut), TimeoutFuture::new(ms)).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(_) => None,
    }
}

/// `await p`; fails the test, naming the line that awaited, if `p` does not settle in 10 s.
#[track_caller]
fn resolve(p: JsValue) -> impl Future<Output = Result<JsValue, JsValue>> {
    let at = Location::caller();
    let settled = JsFuture::from(Promise::from(p));
    async move {
        within(DEADLINE_MS, settled)
            .await
            .unwrap_or_else(|| panic!("the promise awaited at {at} did not settle within 10 s"))
    }
}

/// `await iterator.next()`; fails the test, naming the line that awaited, after 10 s.
#[track_caller]
fn next(stream: &JsValue) -> impl Future<Output = JsValue> {
    let at = Location::caller();
    let p = JsFuture::from(Promise::from(call(stream, "next", &[])));
    async move {
        within(DEADLINE_MS, p)
            .await
            .unwrap_or_else(|| panic!("next() at {at} timed out"))
            .expect("next() resolves")
    }
}

async fn fetch_json(url: &str) -> JsValue {
    let g = js_sys::global();
    let fetch: Function = get(&g, "fetch").dyn_into().unwrap();
    let response = resolve(fetch.call1(&g, &url.into()).unwrap())
        .await
        .unwrap();
    resolve(call(&response, "json", &[])).await.unwrap()
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn parse(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

#[wasm_bindgen_test]
async fn a_consumer_sees_the_current_value_then_every_change() {
    let url = registry();
    let provider_client = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let lamp = provider_client
        .provide(
            "kitchen:lamp",
            false.into(),
            options(&[("metadata", parse(r#"{"room":"kitchen"}"#))]),
        )
        .unwrap();
    let client = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let stream = client.consume("kitchen:lamp", JsValue::UNDEFINED).unwrap();
    let first = get(&next(&stream).await, "value");
    assert_eq!(get(&first, "value"), JsValue::FALSE);
    assert_eq!(get(&get(&first, "metadata"), "room"), "kitchen");
    assert_eq!(get(&first, "removed"), JsValue::FALSE);
    resolve(lamp.set(true.into()).into()).await.unwrap();
    let second = get(&next(&stream).await, "value");
    assert_eq!(get(&second, "value"), JsValue::TRUE);
    assert!(get(&second, "version").as_f64().unwrap() > get(&first, "version").as_f64().unwrap());
    client.close();
    provider_client.close();
}

#[wasm_bindgen_test]
async fn a_request_reaches_the_provider_and_its_answer_reaches_the_consumer() {
    let url = registry();
    let device = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let thermostat = device
        .provide("hall:setpoint", 20.into(), JsValue::UNDEFINED)
        .unwrap();
    let ui = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let view = ui.consume("hall:setpoint", JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&get(&next(&view).await, "value"), "value"), 20);
    let outcome = call(&view, "request", &[21.5.into()]);
    let requests = thermostat.requests();
    let req = get(&next(&requests).await, "value");
    assert_eq!(get(&req, "name"), "hall:setpoint");
    assert_eq!(get(&req, "value"), 21.5);
    // Publishing exactly the requested value accepts the request.
    resolve(thermostat.set(get(&req, "value")).into())
        .await
        .unwrap();
    assert_eq!(get(&get(&next(&view).await, "value"), "value"), 21.5);
    let outcome = resolve(outcome).await.unwrap();
    assert_eq!(get(&outcome, "status"), "accepted");
    assert_eq!(get(&outcome, "request"), get(&req, "request"));
    ui.close();
    device.close();
}

#[wasm_bindgen_test]
async fn subscribe_returns_an_unsubscribe_function() {
    let url = registry();
    let device = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let p = device.provide("n", 1.into(), JsValue::UNDEFINED).unwrap();
    let ui = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let view = ui.consume("n", JsValue::UNDEFINED).unwrap();
    let seen = Rc::new(RefCell::new(Vec::<JsValue>::new()));
    let sink = seen.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |u: JsValue| {
        sink.borrow_mut().push(get(&u, "value"))
    });
    let off: Function = call(&view, "subscribe", &[cb.as_ref().clone()])
        .dyn_into()
        .unwrap();
    next(&view).await;
    resolve(p.set(2.into()).into()).await.unwrap();
    next(&view).await;
    off.call0(&JsValue::NULL).unwrap();
    resolve(p.set(3.into()).into()).await.unwrap();
    next(&view).await;
    assert_eq!(*seen.borrow(), vec![JsValue::from(1), JsValue::from(2)]);
    ui.close();
    device.close();
}

#[wasm_bindgen_test]
async fn consumers_of_one_client_share_one_long_poll() {
    let url = registry();
    let long_poll = || options(&[("transport", "long-poll".into())]);
    let device = RegistryClient::new(&url, long_poll()).unwrap();
    let _a = device.provide("a", 1.into(), JsValue::UNDEFINED).unwrap();
    let _b = device.provide("b", 2.into(), JsValue::UNDEFINED).unwrap();
    let ui = RegistryClient::new(&url, long_poll()).unwrap();
    let sa = ui.consume("a", JsValue::UNDEFINED).unwrap();
    let sb = ui.consume("b", JsValue::UNDEFINED).unwrap();
    next(&sa).await;
    next(&sb).await;
    TimeoutFuture::new(300).await;
    let health = fetch_json(&format!("{url}/v1/health")).await;
    // One consumer poll for the UI client, one provider poll for the device client.
    assert_eq!(get(&health, "waiters"), 2);
    ui.close();
    device.close();
}

#[wasm_bindgen_test]
async fn a_provider_keeps_its_register_alive_and_expiry_is_reported() {
    let url = registry();
    let device = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let p = device
        .provide("short", "x".into(), options(&[("ttl", "1s".into())]))
        .unwrap();
    let ui = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let view = ui.consume("short", JsValue::UNDEFINED).unwrap();
    next(&view).await;
    TimeoutFuture::new(2_500).await;
    let now = resolve(ui.read(vec!["short".into()]).into()).await.unwrap();
    assert_eq!(
        get(&get(&now, "short"), "value"),
        "x",
        "refreshed at half-life"
    );
    p.close();
    let gone = get(&next(&view).await, "value");
    assert_eq!(get(&gone, "removed"), JsValue::TRUE);
    ui.close();
    device.close();
}

#[wasm_bindgen_test]
async fn close_and_abort_signals_end_every_stream() {
    let url = registry();
    let ui = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let view = ui.consume("never", JsValue::UNDEFINED).unwrap();
    let pending = call(&view, "next", &[]);
    ui.close();
    let done = resolve(pending).await.unwrap();
    assert_eq!(get(&done, "done"), JsValue::TRUE);
    assert!(
        ui.consume("x", JsValue::UNDEFINED).is_err(),
        "a closed client refuses new streams"
    );

    let controller = web_sys::AbortController::new().unwrap();
    let ui = RegistryClient::new(&url, options(&[("signal", controller.signal().into())])).unwrap();
    let view = ui.consume("never", JsValue::UNDEFINED).unwrap();
    let pending = call(&view, "next", &[]);
    controller.abort();
    assert_eq!(get(&resolve(pending).await.unwrap(), "done"), JsValue::TRUE);
    assert!(ui.closed());
}

#[wasm_bindgen_test]
fn bad_arguments_are_clear_errors() {
    assert!(RegistryClient::new("ftp://x", JsValue::UNDEFINED).is_err());
    assert!(RegistryClient::new(
        "http://x",
        options(&[("transport", "carrier-pigeon".into())])
    )
    .is_err());
    let ui = RegistryClient::new(&registry(), JsValue::UNDEFINED).unwrap();
    for ttl in ["", "0s", "-1s", "junk5s", "5"] {
        assert!(
            ui.provide("p", 1.into(), options(&[("ttl", ttl.into())]))
                .is_err(),
            "ttl {ttl:?}"
        );
    }
    assert!(ui
        .provide("p", 1.into(), options(&[("metadata", Array::new().into())]))
        .is_err());
    let _p = ui.provide("p", 1.into(), JsValue::UNDEFINED).unwrap();
    assert!(
        ui.provide("p", 2.into(), JsValue::UNDEFINED).is_err(),
        "one provider per name"
    );
    ui.close();
}

#[wasm_bindgen_test]
async fn entries_history_diff_state_and_rollback() {
    let client = RegistryClient::new(&registry(), JsValue::UNDEFINED).unwrap();
    let input = |port: i32, if_version: Option<i32>| {
        let mut pairs = vec![
            ("kind", JsValue::from("svc.http")),
            ("data", parse("{}")),
            ("meta", parse(&format!(r#"{{"port":{port}}}"#))),
        ];
        if let Some(v) = if_version {
            pairs.push(("ifVersion", v.into()));
        }
        options(&pairs)
    };
    let created = resolve(client.put_entry("svc:web", input(80, Some(0))).into())
        .await
        .unwrap();
    assert_eq!(get(&created, "version"), 1);
    let updated = resolve(client.put_entry("svc:web", input(8080, Some(1))).into())
        .await
        .unwrap();
    assert_eq!(get(&updated, "version"), 2);
    let conflict = resolve(client.put_entry("svc:web", input(9090, Some(1))).into())
        .await
        .unwrap_err();
    assert_eq!(get(&conflict, "code"), "version_conflict");
    assert_eq!(get(&conflict, "status"), 409);
    assert!(resolve(client.get_entry("nope").into())
        .await
        .unwrap()
        .is_null());

    let page = resolve(client.history(options(&[("since", 1.into())])).into())
        .await
        .unwrap();
    let versions = Array::from(&get(&page, "versions"));
    assert_eq!(versions.length(), 1);
    assert_eq!(get(&versions.get(0), "version"), 2);
    let diff = resolve(client.diff(1.0, 2.0).into()).await.unwrap();
    let op = Array::from(&get(&diff, "changeset")).get(0);
    assert_eq!(get(&op, "op"), "update");
    assert_eq!(get(&get(&get(&op, "before"), "meta"), "port"), 80);
    let state = Array::from(&resolve(client.state_at(1.0).into()).await.unwrap());
    assert_eq!(state.length(), 1);
    assert_eq!(get(&get(&state.get(0), "meta"), "port"), 80);

    let rolled = resolve(client.rollback(1.0, JsValue::UNDEFINED).into())
        .await
        .unwrap();
    assert_eq!(get(&rolled, "version"), 3);
    let now = resolve(client.get_entry("svc:web").into()).await.unwrap();
    assert_eq!(get(&get(&now, "meta"), "port"), 80);
    let deleted = resolve(
        client
            .delete_entry("svc:web", options(&[("ifVersion", 3.into())]))
            .into(),
    )
    .await
    .unwrap();
    assert_eq!(get(&deleted, "version"), 4);
    client.close();
}

#[wasm_bindgen_test]
async fn find_takes_an_object_or_a_list_of_criteria() {
    let client = RegistryClient::new(&registry(), JsValue::UNDEFINED).unwrap();
    for (id, room, kind) in [
        ("kitchen:lamp", "kitchen", "register"),
        ("kitchen:temp", "kitchen", "register"),
        ("hall:lamp", "hall", "register"),
        ("svc:web", "server", "svc.http"),
    ] {
        let input = options(&[
            ("kind", kind.into()),
            ("data", 1.into()),
            (
                "meta",
                parse(&format!(r#"{{"room":"{room}","port":8080}}"#)),
            ),
        ]);
        resolve(client.put_entry(id, input).into()).await.unwrap();
    }
    let ids = |v: JsValue| {
        Array::from(&v)
            .iter()
            .map(|e| get(&e, "id").as_string().unwrap())
            .collect::<Vec<_>>()
    };
    let by_object = resolve(
        client
            .find(parse(r#"{".kind":"register","^meta.room":"kit"}"#))
            .into(),
    )
    .await
    .unwrap();
    assert_eq!(ids(by_object), ["kitchen:lamp", "kitchen:temp"]);
    let by_list = resolve(
        client
            .find(parse(r#"["~.id=lamp$","meta.room=hall"]"#))
            .into(),
    )
    .await
    .unwrap();
    assert_eq!(ids(by_list), ["hall:lamp"]);
    let numbers = resolve(
        client
            .find(parse(r#"{"meta.port":8080,".kind":"svc.*"}"#))
            .into(),
    )
    .await
    .unwrap();
    assert_eq!(ids(numbers), ["svc:web"]);
    let bad = resolve(client.find(parse(r#"["room=kit"]"#)).into())
        .await
        .unwrap_err();
    assert_eq!(get(&bad, "code"), "invalid_criterion");
    assert!(get(&bad, "message")
        .as_string()
        .unwrap()
        .contains("room=kit"));
    client.close();
}

#[wasm_bindgen_test]
async fn transactions_apply_all_or_nothing_with_every_reason() {
    let client = RegistryClient::new(&registry(), JsValue::UNDEFINED).unwrap();
    let ops = parse(
        r#"[{"op":"create","id":"app:web","kind":"svc","meta":{"depends_on":"db"},"data":{}},
            {"op":"upsert","id":"app:db","kind":"svc","data":{}}]"#,
    );
    let done = resolve(client.transaction(ops, JsValue::UNDEFINED).into())
        .await
        .unwrap();
    assert_eq!(get(&done, "version"), 1);
    let order: Vec<String> = Array::from(&get(&done, "changeset"))
        .iter()
        .map(|o| get(&o, "id").as_string().unwrap())
        .collect();
    assert_eq!(order, ["app:db", "app:web"]);
    let bad = parse(
        r#"[{"op":"create","id":"app:x","kind":"svc","meta":{"depends_on":"ghost"},"data":{}},
            {"op":"delete","id":"app:db"}]"#,
    );
    let err = resolve(client.transaction(bad, JsValue::UNDEFINED).into())
        .await
        .unwrap_err();
    assert_eq!(get(&err, "code"), "rejected");
    assert_eq!(Array::from(&get(&err, "reasons")).length(), 2);
    assert!(
        resolve(client.get_entry("app:x").into())
            .await
            .unwrap()
            .is_null(),
        "the refused create wrote nothing"
    );
    let stale = parse(r#"[{"op":"upsert","id":"app:db","kind":"svc","data":{"n":1}}]"#);
    let err = resolve(
        client
            .transaction(stale, options(&[("ifVersion", 0.into())]))
            .into(),
    )
    .await
    .unwrap_err();
    assert_eq!(get(&err, "code"), "conflict");
    // Neither refused transaction touched app:db (nor made a version).
    let db = resolve(client.get_entry("app:db").into()).await.unwrap();
    assert_eq!(get(&db, "version"), 1);
    assert_eq!(js_sys::JSON::stringify(&get(&db, "data")).unwrap(), "{}");
    let page = resolve(client.history(JsValue::UNDEFINED).into())
        .await
        .unwrap();
    assert_eq!(get(&page, "head"), 1);
    let deps = resolve(client.dependencies("app:db").into()).await.unwrap();
    assert_eq!(Array::from(&get(&deps, "needed_by")).get(0), "app:web");
    client.close();
}
