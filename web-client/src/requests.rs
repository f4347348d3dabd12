//! Change requests with ids. `request()` resolves with the final outcome (`accepted`,
//! `rejected`, `superseded` or `expired`): over the WebSocket it sends `request`, takes the id
//! from the `ok` reply and waits for the `outcome` message; over long polls (or when the socket
//! closes before the outcome) it uses `POST /v1/requests` and `GET /v1/requests/{id}?wait=`.
//! Which request is sent again, which is read over HTTP and who gets an outcome is decided in
//! core (`registry_core::client::requests`); this module does the I/O and the JS conversion.
//! Providers receive change request items with `accept(apply?)` and `reject(reason?)`, which
//! send a verdict (`verdict` message, or `POST /v1/requests/{id}/verdict`).

use futures_channel::oneshot;
use gloo_timers::future::TimeoutFuture;
use js_sys::Promise;
use registry_core::client::requests::FINAL;
use registry_core::stream::wire::{Delivered, Outcome as OutcomeMsg, RequestBody, VerdictBody};
use serde_json::value::RawValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use crate::convert::{error, get, get_u64, parse, raw_js, raw_of};
use crate::shared::{Mode, Shared, SharedRef};
use crate::stream::push;
use crate::transport::send;
use crate::ws::{self, CallError, ClientMsg, Replied, ReplyTo};

#[wasm_bindgen(inline_js = "export function change_request(name, value, id, answer) {
  return {
    name, value, request: id,
    accept(apply) { return answer(id, true, apply === true, undefined, name, value); },
    reject(reason) { return answer(id, false, false, reason, name, value); },
  };
}")]
extern "C" {
    /// A change request item: `{name, value, request, accept(apply?), reject(reason?)}`.
    fn change_request(name: &str, value: &JsValue, id: &JsValue, answer: &JsValue) -> JsValue;
}

/// Who awaits a request's outcome: resolved with it, or rejected (the registry refused the
/// request, or its outcome could not be read).
pub type Waiter = oneshot::Sender<Result<JsValue, JsValue>>;

fn is_final(doc: &JsValue) -> bool {
    get(doc, "status")
        .as_string()
        .is_some_and(|s| FINAL.contains(&s.as_str()))
}

/// `{request, name, status, reason?}` from an `outcome` message or a `/v1/requests` answer.
fn outcome_of(doc: &JsValue) -> JsValue {
    let out = js_sys::Object::new();
    for key in ["request", "name", "status", "reason"] {
        let v = get(doc, key);
        if !v.is_undefined() && !v.is_null() {
            crate::convert::set(&out, key, &v);
        }
    }
    out.into()
}

/// The `request` messages of the requests not sent on the socket that just opened (or is
/// open), each with its `ref`; requests whose requester gave up (aborted) are dropped first.
pub fn to_send(s: &mut Shared) -> Vec<String> {
    let gone: Vec<u64> = (s.waiters.iter())
        .filter(|(_, w)| w.is_canceled())
        .map(|(l, _)| *l)
        .collect();
    for local in gone {
        s.requests.cancel(local);
        s.waiters.retain(|(l, _)| *l != local);
    }
    let mut texts = Vec::new();
    for local in s.requests.unsent() {
        if let Some(msg) = s.requests.sending(local, s.ws.next_ref + 1) {
            texts.push(ws::expect_reply(s, &msg, ReplyTo::Request(local)));
        }
    }
    texts
}

/// Hands a request's result to whoever awaits it.
fn deliver(shared: &SharedRef, local: u64, result: Result<JsValue, JsValue>) {
    let waiter = {
        let mut s = shared.borrow_mut();
        let at = s.waiters.iter().position(|(l, _)| *l == local);
        at.map(|at| s.waiters.remove(at).1)
    };
    if let Some(waiter) = waiter {
        let _ = waiter.send(result);
    }
}

/// The reply to a `request` message: an acknowledgement (the outcome comes later) or a
/// refusal (final).
pub fn on_reply(shared: &SharedRef, local: u64, result: Replied) {
    let refused = {
        let mut s = shared.borrow_mut();
        // The wasm keeps the registry's error as JS: core only needs to know it is one.
        let reply = result.as_ref().map(|ack| ack.request).map_err(|_| "");
        s.requests.replied(local, reply).is_some()
    };
    if refused {
        let e =
            result.and_then(|_| Err(error("the registry acknowledged a request without an id")));
        deliver(shared, local, e);
    }
}

/// An `outcome` message: delivered once, to the request it ends (core decides).
pub fn on_outcome(shared: &SharedRef, msg: &OutcomeMsg, text: &str) {
    let reason = msg.reason.as_deref();
    let done = (shared.borrow_mut().requests).finish(msg.request, &msg.status, reason);
    if let Some(done) = done {
        let outcome = outcome_of(&parse(text).unwrap_or(JsValue::UNDEFINED));
        deliver(shared, done.local, Ok(outcome));
    }
}

/// The socket of these acknowledged requests was lost: their outcomes are read over HTTP.
pub fn poll_outcomes(shared: &SharedRef, ids: Vec<u64>) {
    for id in ids {
        let shared = shared.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match wait_http(&shared, id).await {
                Ok(outcome) => {
                    let status = get(&outcome, "status").as_string().unwrap_or_default();
                    let reason = get(&outcome, "reason").as_string();
                    let done =
                        (shared.borrow_mut().requests).finish(id, &status, reason.as_deref());
                    if let Some(done) = done {
                        deliver(&shared, done.local, Ok(outcome));
                    }
                }
                Err(e) => {
                    let local = shared.borrow_mut().requests.forget(id);
                    if let Some(local) = local {
                        deliver(&shared, local, Err(e));
                    }
                }
            }
        });
    }
}

/// A `request` message: a change request for a register this socket provides.
pub fn on_request(shared: &SharedRef, msg: &Delivered) {
    let name: &str = &msg.name;
    let target = {
        let s = shared.borrow();
        s.providers
            .get(name)
            .map(|p| (p.requests.clone(), s.answer.clone()))
    };
    if let Some((stream, answer)) = target {
        let value = raw_js(msg.value);
        let id = JsValue::from_f64(msg.request as f64);
        let item = change_request(name, &value, &id, &answer);
        push(&stream, item);
    }
}

/// A change request item for a long-polling provider (`id` from `X-Request-Ids`, if sent).
pub fn item(shared: &SharedRef, name: &str, value: &JsValue, id: Option<u64>) -> JsValue {
    let answer = shared.borrow().answer.clone();
    let id = id.map_or(JsValue::UNDEFINED, |id| JsValue::from_f64(id as f64));
    change_request(name, value, &id, &answer)
}

/// Asks the provider of `name` for `value`; resolves with the final outcome.
pub fn request(
    shared: &SharedRef,
    name: &str,
    value: &JsValue,
    signal: Option<AbortSignal>,
) -> Promise {
    let Some(value) = raw_of(value) else {
        return Promise::reject(&error("value must be JSON-serialisable"));
    };
    if shared.borrow().closed {
        return Promise::reject(&error("client is closed"));
    }
    ws::ensure(shared);
    let (shared, name) = (shared.clone(), name.to_string());
    future_to_promise(crate::abort::race(
        async move { run(&shared, name, value).await },
        signal,
    ))
}

async fn run(shared: &SharedRef, name: String, value: Box<RawValue>) -> Result<JsValue, JsValue> {
    if ws::usable(shared).await? == Mode::LongPoll {
        return over_http(shared, RequestBody { name, value }).await;
    }
    // A socket has opened, so the client stays on sockets: core tracks the request across
    // reconnects until its outcome.
    let (tx, rx) = oneshot::channel();
    let texts = {
        let mut s = shared.borrow_mut();
        let local = s.requests.add(&name, value);
        s.waiters.push((local, tx));
        if s.ws.open {
            to_send(&mut s)
        } else {
            Vec::new()
        }
    };
    for text in texts {
        // A failed send is followed by the socket's close: the request goes on the next one.
        ws::send_text(shared, &text);
    }
    rx.await.unwrap_or_else(|_| Err(error("client is closed")))
}

/// What a request of the client needs: base URL, lifetime signal, long-poll `wait`, token.
type Endpoint = (String, AbortSignal, String, Option<String>);

/// The base URL, lifetime signal, long-poll `wait` and token of an open client.
fn endpoint(shared: &SharedRef) -> Result<Endpoint, JsValue> {
    let s = shared.borrow();
    if s.closed {
        return Err(error("client is closed"));
    }
    let (base, signal, token) = s.endpoint();
    Ok((base, signal, s.wait.clone(), token))
}

async fn over_http(
    shared: &SharedRef,
    body: RequestBody<Box<RawValue>>,
) -> Result<JsValue, JsValue> {
    let (base, signal, _, token) = endpoint(shared)?;
    let body = serde_json::to_string(&body).unwrap_or_default();
    let url = format!("{base}/v1/requests");
    let reply = send("POST", &url, Some(&body), Some(&signal), token.as_deref()).await?;
    if !(200..300).contains(&reply.status) {
        return Err(reply.into_error());
    }
    let doc = parse(&reply.body)?;
    if is_final(&doc) {
        return Ok(outcome_of(&doc));
    }
    let id = get_u64(&doc, "request").ok_or_else(|| error("the registry sent no request id"))?;
    wait_http(shared, id).await
}

/// `GET /v1/requests/{id}?wait=` until the status is final (network errors are retried).
async fn wait_http(shared: &SharedRef, id: u64) -> Result<JsValue, JsValue> {
    loop {
        let (base, signal, wait, token) = endpoint(shared)?;
        let url = format!("{base}/v1/requests/{id}?wait={wait}");
        match send("GET", &url, None, Some(&signal), token.as_deref()).await {
            Ok(reply) if reply.status == 200 => {
                let doc = parse(&reply.body)?;
                if is_final(&doc) {
                    return Ok(outcome_of(&doc));
                }
            }
            Ok(reply) if reply.status < 500 => return Err(reply.into_error()),
            _ => {
                endpoint(shared)?;
                TimeoutFuture::new(1_000).await;
            }
        }
    }
}

/// The client's `answer(id, accept, apply, reason, name, value)` function behind
/// `accept()`/`reject()`.
pub fn answer_function(shared: &SharedRef) -> JsValue {
    let weak = std::rc::Rc::downgrade(shared);
    Closure::<dyn FnMut(JsValue, bool, bool, JsValue, String, JsValue) -> Promise>::new(
        move |id: JsValue, accept: bool, apply: bool, reason: JsValue, name: String, value| {
            let Some(shared) = weak.upgrade() else {
                return Promise::reject(&error("client is closed"));
            };
            let applied = (accept && apply).then_some((name, value));
            verdict(&shared, &id, accept, applied, reason.as_string())
        },
    )
    .into_js_value()
}

/// `apply: true`: the registry sets the register to the requested value, so the provider's
/// refreshes must publish that value from now on (anything sent after the verdict carries it).
/// Returns what to restore if the verdict fails (core decides: `Published::adopt`).
fn adopt(shared: &SharedRef, applied: &Option<(String, JsValue)>) -> Option<Adopted> {
    let (name, value) = applied.as_ref()?;
    let value = raw_of(value)?;
    let before = (shared.borrow_mut().published).adopt(name, value.clone())?;
    Some((name.clone(), before, value))
}

/// Puts back the provider's value after a failed applied verdict, unless it changed since.
fn restore(shared: &SharedRef, adopted: Option<Adopted>) {
    if let Some((name, before, value)) = adopted {
        (shared.borrow_mut().published).restore(&name, before, &value);
    }
}

/// An adopted value: the register, the value it replaced, the value adopted.
type Adopted = (String, Box<RawValue>, Box<RawValue>);

fn verdict(
    shared: &SharedRef,
    id: &JsValue,
    accept: bool,
    applied: Option<(String, JsValue)>,
    reason: Option<String>,
) -> Promise {
    let Some(id) = id.as_f64().map(|n| n as u64) else {
        return Promise::reject(&error(
            "this change request has no id (the registry sent no X-Request-Ids): it cannot be \
             answered; publish the value instead",
        ));
    };
    let body = VerdictBody {
        accept,
        reason,
        apply: applied.is_some(),
    };
    let shared = shared.clone();
    future_to_promise(async move {
        let adopted = adopt(&shared, &applied);
        let result = send_verdict(&shared, id, body).await;
        if result.is_err() {
            restore(&shared, adopted);
        }
        result
    })
}

/// Sends a verdict and resolves with the request's outcome: the `ok` reply over the WebSocket
/// and the HTTP answer alike carry the request as it now stands.
async fn send_verdict(shared: &SharedRef, id: u64, body: VerdictBody) -> Result<JsValue, JsValue> {
    let (base, signal, _, token) = endpoint(shared)?;
    if shared.borrow().ws.open {
        let msg = ClientMsg::Verdict {
            request: id,
            accept: body.accept,
            reason: body.reason.clone(),
            apply: body.apply,
        };
        match ws::call(shared, &msg).await {
            Ok(reply) => return Ok(outcome_of(&reply.doc)),
            Err(CallError::Server(e)) => return Err(e),
            Err(CallError::Lost) => {} // over HTTP instead
        }
    }
    let url = format!("{base}/v1/requests/{id}/verdict");
    let body = serde_json::to_string(&body).unwrap_or_default();
    let reply = send("POST", &url, Some(&body), Some(&signal), token.as_deref()).await?;
    if reply.status != 200 {
        return Err(reply.into_error());
    }
    Ok(outcome_of(&parse(&reply.body)?))
}
