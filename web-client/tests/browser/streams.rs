//! The WebSocket transport against the real worker: one socket per client, watches and query
//! streams, change requests with outcomes and verdicts, remote validators, the long-poll
//! transport and the automatic fallback, and reconnects that neither miss nor repeat a change.
//!
//! A spy wraps the page's `WebSocket` constructor: it counts the sockets opened per registry,
//! lets a test close one (an unexpected drop) and can make new sockets fail (a blocked path).

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Promise};
use registry_web::RegistryClient;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use super::{call, fetch_json, get, next, options, parse, registry, resolve, within};

#[wasm_bindgen(inline_js = "
function spy() {
  if (globalThis.__socketSpy) return globalThis.__socketSpy;
  const Real = globalThis.WebSocket;
  const s = { sockets: [], blocked: new Set() };
  const registry = (url) => url.replace(/^ws/, 'http').replace(/\\/v1\\/ws$/, '');
  globalThis.WebSocket = class extends Real {
    constructor(url, protocols) {
      // Blocked: a path the worker has no socket on, so the handshake fails.
      const blocked = s.blocked.has(registry(url));
      super(blocked ? url.replace(/\\/v1\\/ws$/, '/v1/no-socket-here') : url, protocols);
      s.sockets.push({ base: registry(url), socket: this });
    }
  };
  return (globalThis.__socketSpy = s);
}
export function sockets_for(base) {
  return spy().sockets.filter((x) => x.base === base).map((x) => x.socket);
}
export function set_blocked(base, b) {
  if (b) spy().blocked.add(base); else spy().blocked.delete(base);
}
")]
extern "C" {
    /// The sockets created for a registry base URL, oldest first (wraps `WebSocket` first).
    fn sockets_for(base: &str) -> Array;
    /// Makes new sockets to a registry fail (or not). Tests run concurrently in one page: each
    /// blocks only its own registry.
    fn set_blocked(base: &str, blocked: bool);
}

/// Blocks new sockets to a registry until unblocked.
struct Blocked(String);

impl Blocked {
    fn new(base: &str) -> Self {
        set_blocked(base, true);
        Blocked(base.to_string())
    }

    fn lift(self) {
        set_blocked(&self.0, false);
    }
}

fn install_spy() {
    sockets_for("");
}

fn ws_client(url: &str) -> RegistryClient {
    install_spy();
    RegistryClient::new(url, options(&[("transport", "websocket".into())])).unwrap()
}

fn long_poll_client(url: &str) -> RegistryClient {
    install_spy();
    RegistryClient::new(url, options(&[("transport", "long-poll".into())])).unwrap()
}

/// The `value` of a `{value, done}` iterator result.
async fn item(stream: &JsValue) -> JsValue {
    let r = next(stream).await;
    assert_eq!(get(&r, "done"), JsValue::FALSE, "the stream ended");
    get(&r, "value")
}

fn ids(entries: &JsValue) -> Vec<String> {
    Array::from(entries)
        .iter()
        .map(|e| get(&e, "id").as_string().unwrap())
        .collect()
}

fn entry(kind: &str, room: &str, data: &str) -> JsValue {
    options(&[
        ("kind", kind.into()),
        ("data", parse(data)),
        ("meta", parse(&format!(r#"{{"room":"{room}"}}"#))),
    ])
}

/// Every item a stream's `subscribe` callback received.
type Seen = Rc<RefCell<Vec<JsValue>>>;

/// Records every item a stream's `subscribe` callback receives.
fn record(stream: &JsValue) -> Seen {
    let seen = Seen::default();
    let sink = seen.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |v: JsValue| sink.borrow_mut().push(v));
    call(stream, "subscribe", &[cb.into_js_value()]);
    seen
}

/// Waits (up to 10 s) until `f` holds.
async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        TimeoutFuture::new(50).await;
    }
    panic!("timed out waiting until {what}");
}

/// Waits (up to 10 s) until the registry holds `n` long polls.
async fn held_polls(url: &str, n: u32) {
    let mut held = JsValue::UNDEFINED;
    for _ in 0..200 {
        held = get(&fetch_json(&format!("{url}/v1/health")).await, "waiters");
        if held == n {
            return;
        }
        TimeoutFuture::new(50).await;
    }
    panic!("the registry holds {held:?} long polls, not {n}");
}

#[wasm_bindgen_test]
async fn one_websocket_carries_every_subscription_of_a_client() {
    let url = registry();
    let client = ws_client(&url);
    let lamp = client
        .provide("kitchen:lamp", false.into(), JsValue::UNDEFINED)
        .unwrap();
    let view = client.consume("kitchen:lamp", JsValue::UNDEFINED).unwrap();
    let also = client.consume("kitchen:temp", JsValue::UNDEFINED).unwrap();
    let query = client
        .watch(parse(r#"[".kind=register"]"#), JsValue::UNDEFINED)
        .unwrap();
    let first = item(&view).await;
    assert_eq!(get(&first, "value"), JsValue::FALSE);
    assert_eq!(client.transport(), "websocket");
    resolve(lamp.set(true.into()).into()).await.unwrap();
    let second = item(&view).await;
    assert_eq!(get(&second, "value"), JsValue::TRUE);
    assert!(get(&second, "version").as_f64().unwrap() > get(&first, "version").as_f64().unwrap());
    // The query's latest result holds the lamp, on.
    let lamp_is_on = |r: &JsValue| {
        let entries = Array::from(&get(r, "entries"));
        entries.length() == 1 && get(&entries.get(0), "data") == JsValue::TRUE
    };
    let mut result = item(&query).await;
    while !lamp_is_on(&result) {
        result = item(&query).await;
    }
    assert_eq!(ids(&get(&result, "entries")), ["kitchen:lamp"]);
    assert_eq!(sockets_for(&url).length(), 1, "one socket for the client");
    let health = fetch_json(&format!("{url}/v1/health")).await;
    assert_eq!(get(&health, "waiters"), 0, "no long poll is held");
    call(&also, "close", &[]);
    client.close();
    assert_eq!(get(&next(&view).await, "done"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn a_query_stream_yields_the_whole_result_after_every_version() {
    let url = registry();
    let client = ws_client(&url);
    let kitchen = client
        .watch(parse(r#"{"^meta.room":"kit"}"#), JsValue::UNDEFINED)
        .unwrap();
    let empty = item(&kitchen).await;
    assert_eq!(ids(&get(&empty, "entries")), Vec::<String>::new());
    assert!(
        get(&empty, "ops").is_undefined(),
        "the first item is a snapshot"
    );
    let put = |id: &str, e: JsValue| resolve(client.put_entry(id, e).into());
    put("kitchen:lamp", entry("register", "kitchen", "true"))
        .await
        .unwrap();
    let one = item(&kitchen).await;
    assert_eq!(ids(&get(&one, "entries")), ["kitchen:lamp"]);
    let op = Array::from(&get(&one, "ops")).get(0);
    assert_eq!(get(&op, "op"), "create");
    put("hall:lamp", entry("register", "hall", "true"))
        .await
        .unwrap();
    put("kitchen:temp", entry("sensor", "kitchen", "21.5"))
        .await
        .unwrap();
    let two = item(&kitchen).await;
    assert_eq!(ids(&get(&two, "entries")), ["kitchen:lamp", "kitchen:temp"]);
    assert_eq!(
        get(&two, "version").as_f64().unwrap(),
        get(&one, "version").as_f64().unwrap() + 2.0,
        "the hall version did not touch the query"
    );
    put("kitchen:lamp", entry("register", "hall", "true"))
        .await
        .unwrap();
    let left = item(&kitchen).await;
    assert_eq!(ids(&get(&left, "entries")), ["kitchen:temp"]);
    let op = Array::from(&get(&left, "ops")).get(0);
    assert!(get(&op, "entry").is_null(), "an entry leaving the query");
    resolve(
        client
            .delete_entry("kitchen:temp", JsValue::UNDEFINED)
            .into(),
    )
    .await
    .unwrap();
    assert_eq!(
        ids(&get(&item(&kitchen).await, "entries")),
        Vec::<String>::new()
    );

    let bad = client
        .watch(parse(r#"["room=kit"]"#), JsValue::UNDEFINED)
        .unwrap();
    let err = resolve(call(&bad, "next", &[])).await.unwrap_err();
    assert_eq!(get(&err, "code"), "invalid_criterion");
    client.close();
}

#[wasm_bindgen_test]
async fn a_provider_accepts_or_rejects_and_the_requester_gets_the_outcome() {
    let url = registry();
    let device = ws_client(&url);
    let thermostat = device
        .provide("hall:setpoint", 20.into(), options(&[("ttl", "2s".into())]))
        .unwrap();
    let requests = thermostat.requests();
    let ui = ws_client(&url);
    let view = ui.consume("hall:setpoint", JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&item(&view).await, "value"), 20);

    let pending = call(&view, "request", &[21.5.into()]);
    let req = item(&requests).await;
    assert_eq!(get(&req, "value"), 21.5);
    assert!(get(&req, "request").as_f64().is_some(), "an id");
    let answered = resolve(call(&req, "accept", &[true.into()])).await.unwrap();
    assert_eq!(get(&answered, "status"), "accepted");
    let outcome = resolve(pending).await.unwrap();
    assert_eq!(get(&outcome, "status"), "accepted");
    assert_eq!(get(&outcome, "request"), get(&req, "request"));
    assert_eq!(get(&outcome, "name"), "hall:setpoint");
    assert_eq!(
        get(&item(&view).await, "value"),
        21.5,
        "accept(true) applied it"
    );

    let pending = call(&view, "request", &[99.into()]);
    let req = item(&requests).await;
    resolve(call(&req, "reject", &["too hot".into()]))
        .await
        .unwrap();
    let outcome = resolve(pending).await.unwrap();
    assert_eq!(get(&outcome, "status"), "rejected");
    assert_eq!(get(&outcome, "reason"), "too hot");
    let again = resolve(call(&req, "accept", &[])).await.unwrap_err();
    assert_eq!(get(&again, "code"), "request_finished");

    // Past the provider's half-life refresh, the applied value is still there.
    TimeoutFuture::new(1_500).await;
    let now = resolve(ui.read(vec!["hall:setpoint".into()]).into())
        .await
        .unwrap();
    assert_eq!(get(&get(&now, "hall:setpoint"), "value"), 21.5);
    ui.close();
    device.close();
}

fn validator_fn(f: impl Fn(JsValue) -> JsValue + 'static) -> Function {
    Closure::<dyn FnMut(JsValue) -> JsValue>::new(f)
        .into_js_value()
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn a_validator_decides_on_transactions_with_its_reasons() {
    let url = registry();
    let validating = ws_client(&url);
    let asked = Rc::new(RefCell::new(0));
    let count = asked.clone();
    let v = validating
        .validate(
            parse(r#"{".kind":"switch"}"#),
            validator_fn(move |req| {
                *count.borrow_mut() += 1;
                let broken = Array::from(&get(&req, "ops"))
                    .iter()
                    .any(|op| get(&get(&op, "entry"), "data") == "broken");
                if broken {
                    "broken switches are not allowed".into()
                } else {
                    true.into()
                }
            }),
            JsValue::UNDEFINED,
        )
        .unwrap();
    resolve(v.ready().into()).await.unwrap();
    let writer = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    let tx = |ops: &str| resolve(writer.transaction(parse(ops), JsValue::UNDEFINED).into());
    let err = tx(r#"[{"op":"create","id":"sw:1","kind":"switch","data":"broken"}]"#)
        .await
        .unwrap_err();
    assert_eq!(get(&err, "code"), "rejected");
    let reason = Array::from(&get(&err, "reasons")).get(0);
    assert_eq!(get(&reason, "reason"), "broken switches are not allowed");
    assert_eq!(
        get(&reason, "listener"),
        format!("validator:{}", v.id()).as_str()
    );
    assert!(resolve(writer.get_entry("sw:1").into())
        .await
        .unwrap()
        .is_null());
    let ok = tx(r#"[{"op":"create","id":"sw:1","kind":"switch","data":"on"}]"#)
        .await
        .unwrap();
    assert_eq!(get(&ok, "version"), 1);
    tx(r#"[{"op":"create","id":"lamp:1","kind":"lamp","data":"broken"}]"#)
        .await
        .unwrap();
    assert_eq!(*asked.borrow(), 2, "not asked about other kinds");
    v.close();

    // An async validator that throws: its message is the reason.
    let v = validating
        .validate(
            parse(r#"[".kind=switch"]"#),
            validator_fn(|_| {
                Promise::reject(&js_sys::Error::new("maintenance window").into()).into()
            }),
            JsValue::UNDEFINED,
        )
        .unwrap();
    resolve(v.ready().into()).await.unwrap();
    let err = resolve(
        writer
            .put_entry(
                "sw:1",
                options(&[("kind", "switch".into()), ("data", "off".into())]),
            )
            .into(),
    )
    .await
    .unwrap_err();
    let reason = Array::from(&get(&err, "reasons")).get(0);
    assert_eq!(get(&reason, "reason"), "maintenance window");
    v.close();
    tx(r#"[{"op":"update","id":"sw:1","kind":"switch","data":"broken"}]"#)
        .await
        .unwrap();

    let bad = validating
        .validate(
            parse(r#"["kind=switch"]"#),
            validator_fn(|_| true.into()),
            JsValue::UNDEFINED,
        )
        .unwrap();
    let err = resolve(bad.ready().into()).await.unwrap_err();
    assert_eq!(get(&err, "code"), "invalid_criterion");
    let polling = long_poll_client(&url);
    assert!(polling
        .validate(
            parse("[]"),
            validator_fn(|_| true.into()),
            JsValue::UNDEFINED
        )
        .is_err());
    polling.close();
    validating.close();
    writer.close();
}

#[wasm_bindgen_test]
async fn the_long_poll_transport_does_everything_but_validate_without_a_socket() {
    let url = registry();
    let device = long_poll_client(&url);
    let lamp = device
        .provide("kitchen:lamp", false.into(), JsValue::UNDEFINED)
        .unwrap();
    let requests = lamp.requests();
    let ui = long_poll_client(&url);
    let view = ui.consume("kitchen:lamp", JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&item(&view).await, "value"), JsValue::FALSE);
    assert_eq!(ui.transport(), "long-poll");
    assert_eq!(sockets_for(&url).length(), 0, "no socket is opened");
    // The registry holds the UI's consumer poll and the device's provider poll.
    held_polls(&url, 2).await;

    let pending = call(&view, "request", &["purple".into()]);
    let req = item(&requests).await;
    assert!(
        get(&req, "request").as_f64().is_some(),
        "id from X-Request-Ids"
    );
    resolve(call(&req, "reject", &["a lamp is on or off".into()]))
        .await
        .unwrap();
    let outcome = resolve(pending).await.unwrap();
    assert_eq!(get(&outcome, "status"), "rejected");
    assert_eq!(get(&outcome, "reason"), "a lamp is on or off");

    let pending = call(&view, "request", &[true.into()]);
    let req = item(&requests).await;
    resolve(call(&req, "accept", &[true.into()])).await.unwrap();
    assert_eq!(get(&resolve(pending).await.unwrap(), "status"), "accepted");
    assert_eq!(get(&item(&view).await, "value"), JsValue::TRUE);

    let query = ui
        .watch(parse(r#"[".kind=svc"]"#), JsValue::UNDEFINED)
        .unwrap();
    assert_eq!(
        ids(&get(&item(&query).await, "entries")),
        Vec::<String>::new()
    );
    resolve(ui.put_entry("svc:web", entry("svc", "server", "{}")).into())
        .await
        .unwrap();
    assert_eq!(ids(&get(&item(&query).await, "entries")), ["svc:web"]);
    assert_eq!(sockets_for(&url).length(), 0, "no socket at all");
    ui.close();
    device.close();
}

#[wasm_bindgen_test]
async fn auto_falls_back_to_long_polls_for_good_when_no_socket_opens() {
    let url = registry();
    let device = long_poll_client(&url);
    let _p = device.provide("n", 1.into(), JsValue::UNDEFINED).unwrap();
    install_spy();
    let blocked = Blocked::new(&url);
    let ui = RegistryClient::new(&url, JsValue::UNDEFINED).unwrap();
    assert_eq!(ui.transport(), "connecting");
    let view = ui.consume("n", JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&item(&view).await, "value"), 1);
    assert_eq!(ui.transport(), "long-poll");
    blocked.lift();
    let query = ui.watch(parse("[]"), JsValue::UNDEFINED).unwrap();
    assert_eq!(ids(&get(&item(&query).await, "entries")), ["n"]);
    assert_eq!(sockets_for(&url).length(), 1, "the one failed socket");

    // `transport: "websocket"` never falls back: it keeps trying until a socket opens.
    let blocked = Blocked::new(&url);
    let stubborn = ws_client(&url);
    let view = stubborn.consume("n", JsValue::UNDEFINED).unwrap();
    until("two sockets failed", || sockets_for(&url).length() >= 3).await;
    assert_eq!(stubborn.transport(), "connecting");
    blocked.lift();
    assert_eq!(get(&item(&view).await, "value"), 1);
    assert_eq!(stubborn.transport(), "websocket");
    stubborn.close();
    ui.close();
    device.close();
}

#[wasm_bindgen_test]
async fn a_reconnect_resumes_every_watch_without_missing_or_repeating_a_change() {
    let url = registry();
    let device = long_poll_client(&url);
    let p = device.provide("n", 0.into(), JsValue::UNDEFINED).unwrap();
    resolve(p.set(0.into()).into()).await.unwrap(); // version 1
    let ui = ws_client(&url);
    let view = ui.consume("n", JsValue::UNDEFINED).unwrap();
    let query = ui
        .watch(parse(r#"[".kind=register"]"#), JsValue::UNDEFINED)
        .unwrap();
    let values = record(&view);
    let results = record(&query);
    until("the first value", || values.borrow().len() == 1).await;
    until("the first result", || results.borrow().len() == 1).await;

    let blocked = Blocked::new(&url);
    let socket = sockets_for(&url).get(0);
    call(&socket, "close", &[]);
    for v in 1..=3 {
        resolve(p.set(v.into()).into()).await.unwrap();
    }
    TimeoutFuture::new(300).await;
    assert_eq!(
        values.borrow().len(),
        1,
        "nothing arrives while disconnected"
    );
    blocked.lift();
    until("the last value", || values.borrow().len() == 4).await;
    until("the last result", || results.borrow().len() == 4).await;
    TimeoutFuture::new(300).await;

    let got: Vec<JsValue> = values.borrow().iter().map(|u| get(u, "value")).collect();
    assert_eq!(got, (0..=3).map(JsValue::from).collect::<Vec<_>>());
    let versions: Vec<f64> = results
        .borrow()
        .iter()
        .map(|r| get(r, "version").as_f64().unwrap())
        .collect();
    assert_eq!(versions, [1.0, 2.0, 3.0, 4.0], "each version exactly once");
    assert!(sockets_for(&url).length() >= 2, "a new socket");
    assert_eq!(ui.transport(), "websocket");
    ui.close();
    device.close();
}

#[wasm_bindgen_test]
async fn abort_signals_and_close_end_requests_streams_and_providers() {
    let url = registry();
    let ui = ws_client(&url);
    let controller = web_sys::AbortController::new().unwrap();
    let signal = || options(&[("signal", controller.signal().into())]);
    let view = ui.consume("nobody", signal()).unwrap();
    let pending = call(&view, "request", &[1.into(), signal()]);
    let lamp = ui.provide("lamp", 1.into(), signal()).unwrap();
    let waiting = call(&view, "next", &[]);
    TimeoutFuture::new(200).await;
    controller.abort();
    let err = resolve(pending).await.unwrap_err();
    assert_eq!(get(&err, "name"), "AbortError");
    assert_eq!(get(&resolve(waiting).await.unwrap(), "done"), JsValue::TRUE);
    assert!(
        resolve(lamp.set(2.into()).into()).await.is_err(),
        "provider closed"
    );

    // An already-aborted signal: the streams end at once.
    let late = ui.consume("nobody", signal()).unwrap();
    assert_eq!(get(&next(&late).await, "done"), JsValue::TRUE);
    let late = ui.watch(parse("[]"), signal()).unwrap();
    assert_eq!(get(&next(&late).await, "done"), JsValue::TRUE);

    let view = ui.consume("nobody", JsValue::UNDEFINED).unwrap();
    let pending = call(&view, "request", &[1.into()]);
    TimeoutFuture::new(200).await;
    ui.close();
    let err = resolve(pending).await.unwrap_err();
    assert!(get(&err, "message").as_string().unwrap().contains("closed"));
    let socket = sockets_for(&url).get(0);
    until("the socket closed", || get(&socket, "readyState") == 3).await;
}

#[wasm_bindgen_test]
async fn a_newer_request_supersedes_a_pending_one() {
    let url = registry();
    let ui = ws_client(&url);
    let first = ui.request("hall:fan", 1.into(), JsValue::UNDEFINED);
    TimeoutFuture::new(200).await;
    let _second = ui.request("hall:fan", 2.into(), JsValue::UNDEFINED);
    let outcome = resolve(first.into()).await.unwrap();
    assert_eq!(get(&outcome, "status"), "superseded");
    assert_eq!(get(&outcome, "name"), "hall:fan");
    ui.close();
}

#[wasm_bindgen_test]
async fn a_later_consume_all_stream_gets_the_current_snapshot_at_once() {
    for transport in ["long-poll", "websocket"] {
        let url = registry();
        install_spy();
        let client =
            RegistryClient::new(&url, options(&[("transport", transport.into())])).unwrap();
        let lamp = client
            .provide("lamp", false.into(), JsValue::UNDEFINED)
            .unwrap();
        resolve(lamp.set(false.into()).into()).await.unwrap();
        let first = client.consume_all(JsValue::UNDEFINED).unwrap();
        let a = item(&first).await;
        assert_eq!(
            get(&get(&get(&a, "registers"), "lamp"), "value"),
            JsValue::FALSE
        );
        // Nothing changes meanwhile: the second stream's first item cannot wait for a change
        // (a held poll waits 30 s).
        let second = client.consume_all(JsValue::UNDEFINED).unwrap();
        let b = within(2_000, item(&second))
            .await
            .unwrap_or_else(|| panic!("{transport}: no first snapshot for a second stream"));
        let json = |v: &JsValue| js_sys::JSON::stringify(&get(v, "registers")).unwrap();
        assert_eq!(json(&b), json(&a), "{transport}");
        assert_eq!(get(&b, "version"), get(&a, "version"), "{transport}");
        resolve(lamp.set(true.into()).into()).await.unwrap();
        for stream in [&first, &second] {
            let now = item(stream).await;
            let lamp = get(&get(&now, "registers"), "lamp");
            assert_eq!(get(&lamp, "value"), JsValue::TRUE, "{transport}");
            assert!(get(&now, "version").as_f64().unwrap() > get(&a, "version").as_f64().unwrap());
        }
        client.close();
    }
}
