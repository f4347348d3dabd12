//! Change requests with ids. `request()` resolves with the final outcome (`accepted`,
//! `rejected`, `superseded` or `expired`): over the WebSocket it sends `request`, takes the id
//! from the `ok` reply and waits for the `outcome` message; over long polls (or when the socket
//! closes before the outcome) it uses `POST /v1/requests` and `GET /v1/requests/{id}?wait=`.
//! Providers receive change request items with `accept(apply?)` and `reject(reason?)`, which
//! send a verdict (`verdict` message, or `POST /v1/requests/{id}/verdict`).

use futures_channel::oneshot;
use gloo_timers::future::TimeoutFuture;
use js_sys::Promise;
use registry_core::stream::wire::{Delivered, RequestBody, VerdictBody};
use serde_json::value::RawValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use crate::convert::{error, get, get_u64, parse, raw_js, raw_of};
use crate::shared::{Mode, SharedRef};
use crate::stream::push;
use crate::transport::send;
use crate::ws::{self, CallError, ClientMsg};

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

/// Where the outcome of one of this socket's requests goes.
pub enum Slot {
    /// Acknowledged; nobody waits yet.
    Open,
    /// The outcome came before anybody waited.
    Arrived(JsValue),
    /// The requester waits.
    Waiting(oneshot::Sender<JsValue>),
}

const FINAL: [&str; 4] = ["accepted", "rejected", "superseded", "expired"];

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

/// An `ok` to a `request` message: its outcome will come on this socket.
pub fn open_slot(s: &mut crate::shared::Shared, id: u64) {
    s.ws.outcomes.entry(id).or_insert(Slot::Open);
}

/// An `outcome` message.
pub fn on_outcome(shared: &SharedRef, id: u64, text: &str) {
    let outcome = outcome_of(&parse(text).unwrap_or(JsValue::UNDEFINED));
    let waiter = {
        let mut s = shared.borrow_mut();
        match s.ws.outcomes.remove(&id) {
            Some(Slot::Waiting(tx)) => Some(tx),
            Some(Slot::Open) => {
                s.ws.outcomes.insert(id, Slot::Arrived(outcome.clone()));
                None
            }
            _ => None,
        }
    };
    if let Some(tx) = waiter {
        let _ = tx.send(outcome);
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
    let msg = ClientMsg::Request { name, value };
    let id = loop {
        if ws::usable(shared).await? == Mode::LongPoll {
            let ClientMsg::Request { name, value } = msg else {
                unreachable!("a request")
            };
            return over_http(shared, RequestBody { name, value }).await;
        }
        match ws::call(shared, &msg, true).await {
            Ok(reply) => {
                break reply
                    .request
                    .ok_or_else(|| error("the registry acknowledged a request without an id"))?
            }
            // Not acknowledged before the socket closed: sent again once it reopens.
            Err(CallError::Lost) => continue,
            Err(CallError::Server(e)) => return Err(e),
        }
    };
    let waiter = {
        let mut s = shared.borrow_mut();
        match s.ws.outcomes.remove(&id) {
            Some(Slot::Arrived(outcome)) => return Ok(outcome),
            Some(Slot::Open) => {
                let (tx, rx) = oneshot::channel();
                s.ws.outcomes.insert(id, Slot::Waiting(tx));
                Some(rx)
            }
            _ => None,
        }
    };
    if let Some(rx) = waiter {
        if let Ok(outcome) = rx.await {
            return Ok(outcome);
        }
    }
    // The socket closed before the outcome: ask over HTTP.
    wait_http(shared, id).await
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
        match ws::call(shared, &msg, false).await {
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
