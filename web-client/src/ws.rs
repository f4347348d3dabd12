//! The one WebSocket of a client (`GET {base}/v1/ws`): opening it, reconnecting with backoff
//! (100 ms doubling to 5 s, reset once open), re-sending every subscription when it opens,
//! replies matched by `ref`, and the switch to long polls when `transport: "auto"` and the
//! first socket cannot be opened.
//!
//! Handlers are GC-owned closures that hold a weak reference to the client and the generation of
//! their socket: events of a replaced or closed socket are ignored.

use futures_channel::oneshot;
use gloo_timers::future::TimeoutFuture;
use registry_core::client::status::Event;
use registry_core::client::subscriptions::Replied as SubReply;
use registry_core::client::transport::Next;
use registry_core::stream::wire::{Outbound, Ref, ServerMsg};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, WebSocket};

use crate::convert::{error, get, parse, raw_js, registry_error};
use crate::shared::{Mode, Shared, SharedRef};
use crate::status::report;
use crate::{consumer_poll, provider_poll, query_poll, requests, validator, ws_watch};

/// A client message (payloads as JSON text).
pub type ClientMsg = registry_core::stream::wire::ClientMsg<Box<serde_json::value::RawValue>>;

/// An `ok` reply as a caller receives it.
pub struct Ack {
    /// The request id it carries (a `request` or `verdict` reply).
    pub request: Option<u64>,
    /// The whole reply as JS.
    pub doc: JsValue,
}

/// A reply as a caller receives it: what the message produced, or the registry's error.
pub type Replied = Result<Ack, JsValue>;

/// Where a reply (`ok`/`error` with a `ref`) goes.
pub enum ReplyTo {
    /// A caller awaiting the reply.
    Call(oneshot::Sender<Replied>),
    /// A change request's `request` message (its handle in core's `client::requests`).
    Request(u64),
}

/// The socket's state.
#[derive(Default)]
pub struct WsState {
    /// The current socket (open or opening).
    pub socket: Option<WebSocket>,
    /// Bumped for every socket and on close: stale handlers compare and ignore.
    pub generation: u32,
    /// A first socket was attempted.
    pub started: bool,
    /// The current socket is open.
    pub open: bool,
    /// The last `ref` used.
    pub next_ref: u64,
    /// Replies awaited, by numeric `ref` (dropped when the socket closes). Watches and
    /// validators use their id as `ref` instead: a watch has no `ok` (its snapshot or backlog
    /// answers), only an `error`.
    /// (A client awaits a handful at a time: a list keeps the wasm smaller than a map would.)
    pub calls: Vec<(u64, ReplyTo)>,
    /// Woken when the transport becomes usable (socket open, long polls chosen, or close).
    pub ready: Vec<oneshot::Sender<()>>,
}

/// Why a call got no reply.
pub enum CallError {
    /// The socket is not open, or closed before the reply.
    Lost,
    /// The registry answered `error` (a JS `Error` with `code`).
    Server(JsValue),
}

/// `ws://…/v1/ws` or `wss://…/v1/ws` for a base URL.
fn socket_url(base: &str) -> String {
    match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}/v1/ws"),
        None => format!("ws://{}/v1/ws", base.trim_start_matches("http://")),
    }
}

/// Opens the socket if the client should have one and has none (the first use of a
/// subscription opens it; clients that only read never do).
pub fn ensure(shared: &SharedRef) {
    let needed = {
        let s = shared.borrow();
        // Once started, a closed socket always has a reconnect scheduled (or the client fell
        // back to long polls).
        !s.closed && s.transport.sockets() && !s.ws.started
    };
    if needed {
        connect(shared);
    }
}

fn connect(shared: &SharedRef) {
    let (url, generation, token) = {
        let mut s = shared.borrow_mut();
        if s.closed {
            return;
        }
        s.ws.started = true;
        s.ws.generation += 1;
        (socket_url(&s.base), s.ws.generation, s.token.clone())
    };
    let opened = match token {
        // Browsers cannot set headers on a WebSocket: the token rides as a subprotocol next to
        // `registry`, which the server selects (core/src/auth/credentials.rs).
        Some(token) => {
            use registry_core::auth::{WS_PROTOCOL, WS_TOKEN_PREFIX};
            let protocols = js_sys::Array::of2(
                &WS_PROTOCOL.into(),
                &format!("{WS_TOKEN_PREFIX}{token}").into(),
            );
            WebSocket::new_with_str_sequence(&url, &protocols)
        }
        None => WebSocket::new(&url),
    };
    let socket = match opened {
        Ok(socket) => socket,
        // No WebSocket in this runtime, or a URL it refuses: as if it closed before opening.
        Err(_) => return on_closed(shared, generation),
    };
    let weak = std::rc::Rc::downgrade(shared);
    let handler = |f: fn(&SharedRef, u32, JsValue)| {
        let weak = weak.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let Some(shared) = weak.upgrade() {
                f(&shared, generation, event);
            }
        })
        .into_js_value()
    };
    socket.set_onopen(Some(handler(|s, g, _| on_open(s, g)).unchecked_ref()));
    // Node's WebSocket reports a failed handshake with `error` alone (no `close`): either ends
    // the socket, whichever comes first.
    socket.set_onclose(Some(handler(|s, g, _| on_closed(s, g)).unchecked_ref()));
    socket.set_onerror(Some(handler(|s, g, _| on_closed(s, g)).unchecked_ref()));
    socket.set_onmessage(Some(
        handler(|s, g, e| {
            let text = e.unchecked_into::<MessageEvent>().data().as_string();
            if let Some(text) = text {
                on_message(s, g, &text);
            }
        })
        .unchecked_ref(),
    ));
    shared.borrow_mut().ws.socket = Some(socket);
}

fn on_open(shared: &SharedRef, generation: u32) {
    let (socket, messages, ready) = {
        let mut s = shared.borrow_mut();
        if s.ws.generation != generation || s.closed {
            return;
        }
        s.ws.open = true;
        s.transport.opened();
        let mut messages = s.subs.connected();
        messages.extend(crate::provider::resume_message(&s));
        messages.extend(requests::to_send(&mut s));
        (
            s.ws.socket.clone(),
            messages,
            std::mem::take(&mut s.ws.ready),
        )
    };
    if let Some(socket) = socket {
        for m in messages {
            let _ = socket.send_with_str(&m);
        }
    }
    drop(ready);
    report(shared, Event::Opened);
}

/// The socket closed or failed: retire it (its later events are ignored), then reconnect
/// after the backoff delay, or fall back to long polls.
fn on_closed(shared: &SharedRef, generation: u32) {
    let (socket, calls, polls, next, retired) = {
        let mut s = shared.borrow_mut();
        if s.ws.generation != generation || s.closed {
            return;
        }
        s.ws.generation += 1;
        let socket = s.ws.socket.take();
        s.ws.open = false;
        s.subs.disconnected();
        let calls = std::mem::take(&mut s.ws.calls);
        // Requests not acknowledged go again on the next socket; acknowledged ones are read
        // over HTTP (core decides).
        let polls = s.requests.disconnected();
        // Core decides: retry after the backoff, or fall back to long polls.
        let next = s.transport.failed();
        (socket, calls, polls, next, s.ws.generation)
    };
    if let Some(socket) = socket {
        retire(&socket); // after an `error`, make sure it is gone
    }
    // Callers awaiting replies see `Lost` and retry or switch to HTTP.
    drop(calls);
    requests::poll_outcomes(shared, polls);
    report(shared, Event::Failed);
    let delay = match next {
        Next::Retry(delay) => delay,
        Next::FallBack => return fall_back(shared),
    };
    let shared = shared.clone();
    wasm_bindgen_futures::spawn_local(async move {
        TimeoutFuture::new(delay).await;
        let current = {
            let s = shared.borrow();
            !s.closed && s.ws.generation == retired && s.ws.socket.is_none()
        };
        if current {
            connect(&shared);
        }
    });
}

/// Detaches a socket's handlers, then closes it (Node's WebSocket fires `error` again, at
/// once, when a connecting socket is closed).
fn retire(socket: &WebSocket) {
    socket.set_onopen(None);
    socket.set_onmessage(None);
    socket.set_onerror(None);
    socket.set_onclose(None);
    let _ = socket.close_with_code(1000);
}

/// The first socket could not be opened: long polls for the life of the client (the mode is
/// already `LongPoll`).
fn fall_back(shared: &SharedRef) {
    let (queries, validators, ready) = {
        let mut s = shared.borrow_mut();
        let watches = std::mem::take(&mut s.watches);
        let validators = std::mem::take(&mut s.validators);
        for id in watches.keys().chain(validators.keys()) {
            // No socket is open: nothing is sent.
            let _ = s.subs.unwatch(id);
            let _ = s.subs.unvalidate(id);
        }
        s.name_watch.clear();
        s.all_watch = None;
        let queries: Vec<_> = watches
            .into_values()
            .filter_map(|w| w.into_query())
            .collect();
        let validators: Vec<_> = validators.into_values().collect();
        (queries, validators, std::mem::take(&mut s.ws.ready))
    };
    for (stream, criteria) in queries {
        query_poll::start(shared, stream, criteria);
    }
    for v in validators {
        v.settle(Err(error(
            "validate() needs the WebSocket transport, and the WebSocket could not be opened: \
             the client uses long polls",
        )));
    }
    consumer_poll::restart(shared, true);
    provider_poll::restart(shared);
    drop(ready);
    report(shared, Event::FellBack);
}

/// The runtime is online again: if the socket is between attempts, tries at once (the
/// scheduled attempt then finds a newer socket and does nothing).
pub fn retry_now(shared: &SharedRef) {
    let waiting = {
        let s = shared.borrow();
        !s.closed && s.transport.sockets() && s.ws.started && s.ws.socket.is_none()
    };
    if waiting {
        connect(shared);
    }
}

/// Closes the socket for good (`client.close()`); every handler is ignored from now on.
pub fn close(shared: &SharedRef) {
    let (socket, calls, waiters, ready) = {
        let mut s = shared.borrow_mut();
        s.ws.generation += 1;
        s.ws.open = false;
        s.subs.disconnected();
        (
            s.ws.socket.take(),
            std::mem::take(&mut s.ws.calls),
            std::mem::take(&mut s.waiters),
            std::mem::take(&mut s.ws.ready),
        )
    };
    if let Some(socket) = socket {
        retire(&socket);
    }
    // Whoever awaits a reply, an outcome or the transport sees the client closed.
    drop((calls, waiters, ready));
}

/// Waits until the transport can be used: `WebSocket` once a socket is open, `LongPoll` when
/// the client uses long polls. Rejects once the client is closed.
pub async fn usable(shared: &SharedRef) -> Result<Mode, JsValue> {
    loop {
        let rx = {
            let mut s = shared.borrow_mut();
            if s.closed {
                return Err(error("client is closed"));
            }
            match s.transport.mode() {
                Mode::LongPoll => return Ok(Mode::LongPoll),
                Mode::WebSocket if s.ws.open => return Ok(Mode::WebSocket),
                _ => {}
            }
            let (tx, rx) = oneshot::channel();
            s.ws.ready.push(tx);
            rx
        };
        ensure(shared);
        let _ = rx.await;
    }
}

/// The open socket, if any.
fn open_socket(s: &Shared) -> Option<WebSocket> {
    s.ws.socket.clone().filter(|_| s.ws.open)
}

/// Sends a message without awaiting a reply; false when no socket is open.
pub fn send(shared: &SharedRef, msg: &ClientMsg) -> bool {
    send_text(shared, &msg.to_text())
}

/// Sends a message already encoded (a resumed subscription); false when no socket is open.
pub fn send_text(shared: &SharedRef, text: &str) -> bool {
    let socket = open_socket(&shared.borrow());
    socket.is_some_and(|socket| socket.send_with_str(text).is_ok())
}

/// Registers a reply handler and returns the message text carrying its `ref` (the next one:
/// `ws.next_ref + 1`).
pub fn expect_reply(s: &mut Shared, msg: &ClientMsg, to: ReplyTo) -> String {
    s.ws.next_ref += 1;
    let r = s.ws.next_ref;
    s.ws.calls.push((r, to));
    Outbound {
        reference: Ref::Number(r),
        msg,
    }
    .to_text()
}

/// Sends a message and awaits its `ok` reply (resolved with what it produced) or `error`.
pub async fn call(shared: &SharedRef, msg: &ClientMsg) -> Result<Ack, CallError> {
    let (tx, rx) = oneshot::channel();
    let (socket, text) = {
        let mut s = shared.borrow_mut();
        let Some(socket) = open_socket(&s) else {
            return Err(CallError::Lost);
        };
        (socket, expect_reply(&mut s, msg, ReplyTo::Call(tx)))
    };
    if socket.send_with_str(&text).is_err() {
        return Err(CallError::Lost);
    }
    match rx.await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(e)) => Err(CallError::Server(e)),
        Err(_) => Err(CallError::Lost),
    }
}

fn on_message(shared: &SharedRef, generation: u32, text: &str) {
    if shared.borrow().ws.generation != generation {
        return;
    }
    let Ok(Some(msg)) = ServerMsg::decode(text) else {
        return;
    };
    match msg {
        ServerMsg::Ok(_) | ServerMsg::Error(_) if is_subscription_reply(&msg) => {
            subscription_reply(shared, &msg)
        }
        ServerMsg::Ok(reply) => {
            let ack = Ack {
                request: reply.request,
                doc: parse(text).unwrap_or(JsValue::UNDEFINED),
            };
            on_reply(shared, Ref::of(reply.reference), Ok(ack));
        }
        ServerMsg::Error(refusal) => {
            let err = raw_js(refusal.error);
            let e = registry_error(&err, "registry refused");
            on_reply(shared, Ref::of(refusal.reference), Err(e));
        }
        ServerMsg::Snapshot(_) | ServerMsg::Change(_) | ServerMsg::Synced(_) => {
            ws_watch::on_message(shared, &msg)
        }
        ServerMsg::Request(m) => requests::on_request(shared, &m),
        ServerMsg::Outcome(m) => requests::on_outcome(shared, &m, text),
        ServerMsg::Validate(m) => validator::on_validate(shared, &m),
        ServerMsg::Pong => {}
    }
}

/// Whether a reply is to a watch or a validator (their ids, `w…` and `v…`, are their refs).
fn is_subscription_reply(msg: &ServerMsg) -> bool {
    let reference = match msg {
        ServerMsg::Ok(reply) => reply.reference,
        ServerMsg::Error(refusal) => refusal.reference,
        _ => None,
    };
    matches!(Ref::of(reference), Some(Ref::Id(_)))
}

/// A reply to a watch or validator: the subscriptions decide (a watch resumed from a `since`
/// the registry does not know is sent again from a snapshot).
fn subscription_reply(shared: &SharedRef, msg: &ServerMsg) {
    let (id, error) = match msg {
        ServerMsg::Ok(reply) => (reply.reference, None),
        ServerMsg::Error(refusal) => {
            let e = registry_error(&raw_js(refusal.error), "registry refused");
            (refusal.reference, Some(e))
        }
        _ => return,
    };
    let Some(Ref::Id(id)) = Ref::of(id) else {
        return;
    };
    let code = error.as_ref().map(|e| get(e, "code").as_string());
    let (replied, text) = shared
        .borrow_mut()
        .subs
        .replied(id, code.as_ref().map(|c| c.as_deref()));
    if let Some(text) = text {
        send_text(shared, &text);
    }
    let error = error.unwrap_or(JsValue::UNDEFINED);
    match replied {
        SubReply::Nothing => {}
        SubReply::WatchFailed(id) => ws_watch::on_error(shared, &id, error),
        SubReply::Validator(id, true) => validator::on_reply(shared, &id, Ok(JsValue::UNDEFINED)),
        SubReply::Validator(id, false) => validator::on_reply(shared, &id, Err(error)),
    }
}

fn on_reply(shared: &SharedRef, reference: Option<Ref>, result: Replied) {
    let Some(Ref::Number(r)) = reference else {
        return;
    };
    let to = {
        let calls = &mut shared.borrow_mut().ws.calls;
        let at = calls.iter().position(|(c, _)| *c == r);
        at.map(|at| calls.remove(at).1)
    };
    match to {
        Some(ReplyTo::Call(tx)) => {
            let _ = tx.send(result);
        }
        Some(ReplyTo::Request(local)) => requests::on_reply(shared, local, result),
        None => {}
    }
}
