//! The Durable Object that holds one registry: a thin shell around `registry_core::Service`.
//!
//! - State is loaded from SQLite when the object starts and every change is written there (one
//!   transaction per commit) before it is applied in memory.
//! - One alarm is kept at the next TTL / change-request expiry, so registers expire with no
//!   traffic at all.
//! - A long poll is a future parked on a oneshot channel raced against a timer; the request
//!   that changes something wakes it directly (no polling loop).
//! - WebSockets are accepted with the hibernation API: the object may be evicted while they
//!   stay open; each socket's attachment holds only its connection id, its subscriptions are
//!   saved in SQLite by the core and restored whenever the service is loaded. SSE watches are
//!   response bodies fed by a channel.
//! - Every call into the core returns its effects as one value ([`Effects`]), carried out by
//!   [`RegistryObject::carry_out`]: wake held requests, send messages, close connections, arm
//!   the alarm.

use registry_core::auth::Principal;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use futures_channel::oneshot;
use futures_util::future::{select, Either};
use registry_core::api::split_registry;
use registry_core::logline::ops_of;
use registry_core::stream::ConnId;
use registry_core::{Effects, HttpRequest, HttpResponse, Limits, Reply, Service, Store, WaiterId};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use worker::{
    durable_object, Date, Delay, Env, Request, Response, ResponseBody, Result, ScheduledTime,
    State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

use crate::http::{from_request, to_response};
use crate::logs::{self, Served};
use crate::sql_store::SqlStore;
use crate::streams::{encode_attachment, read_attachment, Conn, Outbox, SseStream};

/// One registry (one object per registry name).
#[durable_object]
pub struct RegistryObject {
    state: State,
    limits: Limits,
    service: RefCell<Option<Service<SqlStore>>>,
    held: RefCell<HashMap<WaiterId, oneshot::Sender<()>>>,
    /// The alarm time this instance last set (None = unknown or none).
    alarm_at: Cell<Option<u64>>,
    /// Whether this instance has read the durable alarm since it started (once is enough:
    /// afterwards `alarm_at` follows every set).
    alarm_read: Cell<bool>,
    /// Open stream connections.
    conns: RefCell<HashMap<ConnId, Conn>>,
    /// The id the next connection gets.
    next_conn: Cell<ConnId>,
    /// Stream messages on their way out.
    outbox: Outbox,
    /// The registry's name, for the log (from the object's id, else from the first request).
    registry: RefCell<String>,
}

fn now() -> u64 {
    Date::now().as_millis()
}

/// Limits, with history settings from wrangler vars: `RETENTION_VERSIONS` (keep at least this
/// many versions; unset = all) and `CHECKPOINT_INTERVAL` (default 256); `MAX_HELD_CONNECTIONS`,
/// `MAX_ENTRIES` and `MAX_STATE_BYTES` override those bounds (tests and benchmarks that measure
/// past them).
fn limits_from_env(env: &Env) -> Limits {
    let var = |name: &str| {
        env.var(name)
            .ok()
            .and_then(|v| v.to_string().trim().parse::<u64>().ok())
    };
    let mut limits = Limits::default();
    if let Some(n) = var("CHECKPOINT_INTERVAL").filter(|n| *n > 0) {
        limits.checkpoint_interval = n;
    }
    limits.max_versions = var("RETENTION_VERSIONS");
    if let Some(n) = var("MAX_HELD_CONNECTIONS") {
        limits.max_held_connections = n as usize;
    }
    if let Some(n) = var("MAX_ENTRIES") {
        limits.max_entries = n as usize;
    }
    if let Some(n) = var("MAX_STATE_BYTES") {
        limits.max_state_bytes = n as usize;
    }
    limits
}

impl RegistryObject {
    /// Runs `f` on the service, loading it from storage on first use (a failed store write
    /// later is recovered by the core itself, in place: held requests keep their waiters).
    fn with_service<T>(&self, f: impl FnOnce(&mut Service<SqlStore>) -> T) -> Result<T> {
        let restored = {
            let mut slot = self.service.borrow_mut();
            let restored = if slot.is_none() {
                let store = SqlStore::open(self.state.storage()).map_err(|e| e.to_string())?;
                let mut svc =
                    Service::load(store, self.limits.clone()).map_err(|e| e.to_string())?;
                let effects = self.restore_sockets(&mut svc);
                *slot = Some(svc);
                Some(effects)
            } else {
                None
            };
            let value = f(slot.as_mut().expect("loaded above"));
            (value, restored)
        };
        if let Some(effects) = restored.1 {
            self.carry_out_now(effects);
        }
        Ok(restored.0)
    }

    /// Carries out what a call into the core asked: messages go to the outbox (sent in order
    /// right after this event), connections are closed, held requests woken, and the alarm
    /// armed at the next expiry. Connections the outbox found gone end their sessions, whose
    /// effects are carried out in turn.
    async fn carry_out(&self, effects: Effects) -> Result<()> {
        let alarm = effects.alarm;
        self.carry_out_now(effects);
        self.arm_alarm(alarm).await;
        Ok(())
    }

    /// The synchronous part of [`Self::carry_out`] (everything but the alarm).
    fn carry_out_now(&self, effects: Effects) {
        let mut pending = vec![effects];
        while let Some(e) = pending.pop() {
            logs::versions(&self.registry.borrow(), &e.written);
            for c in &e.close {
                match self.conns.borrow_mut().remove(c) {
                    Some(Conn::Ws(ws)) => {
                        let _ = ws.close(Some(1011), Some("session lost: reconnect and resume"));
                    }
                    Some(Conn::Sse(sse)) => sse.end(),
                    None => {}
                }
            }
            self.outbox.push(&self.conns.borrow(), e.send);
            for id in e.wake {
                if let Some(tx) = self.held.borrow_mut().remove(&id) {
                    let _ = tx.send(());
                }
            }
            for c in self.outbox.take_gone() {
                self.conns.borrow_mut().remove(&c);
                if let Some(svc) = self.service.borrow_mut().as_mut() {
                    pending.push(svc.close_session(c));
                }
            }
        }
        self.outbox.schedule();
    }

    /// Makes sure the alarm fires at `at` (or earlier). A failure is logged and retried after
    /// the next event; it never fails the request that caused it.
    async fn arm_alarm(&self, at: Option<u64>) {
        let Some(at) = at else { return };
        if !self.alarm_read.replace(true) {
            // A fresh start: an alarm armed before the restart is still there, and reading it
            // spares the first answer a storage write to wait for. One not in the future (the
            // alarm running now, when an alarm is the first event) is set again.
            if let Ok(Some(cur)) = self.state.storage().get_alarm().await {
                let cur = cur.max(0) as u64;
                if cur > now() {
                    self.alarm_at.set(Some(cur));
                }
            }
        }
        if self.alarm_at.get().is_some_and(|cur| cur <= at) {
            return;
        }
        let when = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
        match self
            .state
            .storage()
            .set_alarm(ScheduledTime::new(when))
            .await
        {
            Ok(()) => self.alarm_at.set(Some(at)),
            Err(e) => {
                worker::console_error!("setting the alarm at {at} failed: {e}");
                self.alarm_at.set(None);
            }
        }
    }

    /// Parks a long poll until its waiter is woken, its deadline passes or its client goes
    /// away. `rx` was registered in `held` before any await, so no wake-up can be missed.
    async fn hold(
        &self,
        waiter: WaiterId,
        deadline: u64,
        rx: oneshot::Receiver<()>,
        signal: web_sys::AbortSignal,
        served: &mut Served,
    ) -> Result<HttpResponse> {
        let wait = deadline.saturating_sub(now());
        let timer = Delay::from(Duration::from_millis(wait));
        let (gone_tx, gone_rx) = oneshot::channel::<()>();
        let mut gone_tx = Some(gone_tx);
        let on_abort = Closure::<dyn FnMut()>::new(move || {
            if let Some(tx) = gone_tx.take() {
                let _ = tx.send(());
            }
        });
        signal.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        let client_gone = signal.aborted()
            || matches!(select(select(rx, timer), gone_rx).await, Either::Right(_));
        signal.set_onabort(None);
        drop(on_abort);
        self.held.borrow_mut().remove(&waiter);
        if client_gone {
            // Nobody will read the answer: forget the waiter so that it takes no change request.
            let effects = self.with_service(|s| s.cancel(waiter))?;
            self.carry_out(effects).await?;
            return Ok(HttpResponse::empty(499));
        }
        let step = self.with_service(|s| s.resume(waiter, now()))?;
        served.ops += ops_of(&step.effects.written);
        self.carry_out(step.effects).await?;
        Ok(step.value)
    }
}

impl worker::DurableObject for RegistryObject {
    fn new(state: State, env: Env) -> Self {
        RegistryObject {
            registry: RefCell::new(state.id().name().unwrap_or_default()),
            state,
            limits: limits_from_env(&env),
            service: RefCell::new(None),
            held: RefCell::new(HashMap::new()),
            alarm_at: Cell::new(None),
            alarm_read: Cell::new(false),
            conns: RefCell::new(HashMap::new()),
            next_conn: Cell::new(1),
            outbox: Outbox::default(),
        }
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let Some(att) = read_attachment(&ws) else {
            let _ = ws.close(Some(1011), Some("no session"));
            return Ok(());
        };
        let text = match message {
            WebSocketIncomingMessage::String(s) => s,
            WebSocketIncomingMessage::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
        };
        let started = now();
        let (effects, actor, version) = self.with_service(|s| {
            let effects = s.on_message(att.conn, &text, now());
            let actor = s.session_actor(att.conn).map(str::to_string);
            (effects, actor, s.registry().head())
        })?;
        let registry = self.registry.borrow().clone();
        let line = registry_core::logline::RequestLine {
            registry: &registry,
            method: "WS",
            path: registry_core::logline::message_type(&text),
            status: 0,
            actor: actor.as_deref(),
            version,
            ops: ops_of(&effects.written),
            duration_ms: now().saturating_sub(started),
        };
        worker::console_log!("{}", line.line());
        self.carry_out(effects).await
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        self.socket_gone(&ws).await?;
        // Complete the closing handshake.
        let code = registry_core::stream::close_reply_code(code);
        let _ = ws.close(Some(code), Some("closed"));
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        self.socket_gone(&ws).await
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let started = now();
        let method = req.method().to_string();
        // Parsed once for the whole request.
        let url = req.url()?;
        let full_path = url.path().to_string();
        let path = match split_registry(&full_path) {
            Ok((name, inner)) => {
                if self.registry.borrow().is_empty() {
                    *self.registry.borrow_mut() = name;
                }
                inner
            }
            Err(_) => full_path,
        };
        let mut served = Served::default();
        let response = match self.serve(req, &url, &mut served).await {
            Ok(r) => r,
            Err(e) => {
                worker::console_error!("registry object failed: {e}");
                let err =
                    registry_core::ApiError::new(500, "internal", format!("internal error: {e}"));
                to_response(err.to_response())?
            }
        };
        let elapsed = now().saturating_sub(started);
        logs::request(
            &self.registry.borrow(),
            &method,
            &path,
            &served,
            &response,
            elapsed,
        );
        Ok(response)
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(None);
        let step = self.with_service(|s| s.on_alarm(now()))?;
        self.carry_out(step.effects).await?;
        if let Err(e) = step.value {
            // The runtime retries a failed alarm with backoff.
            worker::console_error!("expiry failed: {e}");
            return Err(worker::Error::RustError("expiry failed".into()));
        }
        Response::ok("")
    }
}

impl RegistryObject {
    async fn serve(
        &self,
        mut req: Request,
        url: &worker::Url,
        served: &mut Served,
    ) -> Result<Response> {
        // Close the sessions of streams found gone: their slots are free again.
        self.carry_out_now(Effects::default());
        // Who asks, as the entry authorized it: without it, nothing is served.
        let principal = match crate::auth_env::principal_of(&req) {
            Ok(p) => p,
            Err(e) => return to_response(e.to_response()),
        };
        served.actor = principal.name().map(str::to_string);
        let max_body = self.with_service(|s| s.limits().max_body_bytes)?;
        let mut http = match from_request(&mut req, url, principal, max_body).await? {
            Ok(http) => http,
            Err(e) => return to_response(e.to_response()),
        };
        match split_registry(&http.path) {
            Ok((_, inner)) => http.path = inner,
            Err(e) => return to_response(e.to_response()),
        }
        if http.path == "/v1/ws" {
            return self.accept_socket(&req, &http.principal);
        }
        if http.path == "/v1/watch" && http.method == "GET" {
            return self.open_event_stream(&req, &http).await;
        }
        let step = self.with_service(|s| s.handle(&http, now()))?;
        served.ops += ops_of(&step.effects.written);
        let parked = match step.value {
            Reply::Respond(r) => Err(r),
            Reply::Wait { waiter, deadline } => {
                let (tx, rx) = oneshot::channel();
                self.held.borrow_mut().insert(waiter, tx);
                Ok((waiter, deadline, rx))
            }
        };
        self.carry_out(step.effects).await?;
        let response = match parked {
            Err(r) => r,
            Ok((waiter, deadline, rx)) => {
                let signal = req.inner().signal();
                self.hold(waiter, deadline, rx, signal, served).await?
            }
        };
        // The log line's version, read here rather than back from the JS response.
        served.version = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(registry_core::VERSION_HEADER))
            .and_then(|(_, v)| v.parse().ok());
        to_response(response)
    }
}

impl RegistryObject {
    fn take_conn_id(&self) -> ConnId {
        let id = self.next_conn.get();
        self.next_conn.set(id + 1);
        id
    }

    /// Puts every open WebSocket (as the runtime lists them, hibernated or not) back into a
    /// freshly loaded service: the core restores their sessions from SQLite. A socket accepted
    /// by an older version carries its subscriptions in its attachment: they are saved first.
    fn restore_sockets(&self, svc: &mut Service<SqlStore>) -> Effects {
        let mut conns = self.conns.borrow_mut();
        // SSE sessions lived only in the discarded service: end their streams.
        conns.retain(|_, c| match c {
            Conn::Ws(_) => true,
            Conn::Sse(sse) => {
                sse.end();
                false
            }
        });
        let mut open = Vec::new();
        for ws in self.state.get_websockets() {
            if let Some(att) = read_attachment(&ws) {
                if let Some(state) = &att.state {
                    if svc.store_mut().save_session(att.conn, Some(state)).is_ok() {
                        let _ = ws.serialize_attachment(encode_attachment(att.conn));
                    }
                }
                self.next_conn.set(self.next_conn.get().max(att.conn + 1));
                conns.insert(att.conn, Conn::Ws(ws));
                open.push(att.conn);
            }
        }
        svc.restore_sessions(&open).effects
    }

    async fn socket_gone(&self, ws: &WebSocket) -> Result<()> {
        if let Some(att) = read_attachment(ws) {
            self.conns.borrow_mut().remove(&att.conn);
            let effects = self.with_service(|s| s.close_session(att.conn))?;
            self.carry_out(effects).await?;
        }
        Ok(())
    }

    /// `GET /v1/ws` with `Upgrade: websocket`: a hibernatable socket with a new session.
    fn accept_socket(&self, req: &Request, principal: &Principal) -> Result<Response> {
        let upgrade = req.headers().get("upgrade")?.unwrap_or_default();
        if !upgrade.eq_ignore_ascii_case("websocket") {
            let e = registry_core::ApiError::new(
                426,
                "upgrade_required",
                "/v1/ws is a WebSocket endpoint: send Upgrade: websocket",
            );
            return to_response(e.to_response());
        }
        // Loads the service (restoring hibernated sockets) before the id is chosen.
        self.with_service(|_| ())?;
        let conn = self.take_conn_id();
        let step = self.with_service(|s| s.open_session(conn, principal))?;
        if let Err(e) = step.value {
            self.carry_out_now(step.effects);
            return to_response(e.to_response());
        }
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        pair.server.serialize_attachment(encode_attachment(conn))?;
        self.conns.borrow_mut().insert(conn, Conn::Ws(pair.server));
        self.carry_out_now(step.effects);
        crate::auth_env::select_ws_protocol(req, Response::from_websocket(pair.client)?)
    }

    /// `GET /v1/watch`: an SSE stream of one watch (snapshot or backlog, then live changes),
    /// with the outbox's shared keep-alive (which also finds a client gone).
    async fn open_event_stream(&self, req: &Request, http: &HttpRequest) -> Result<Response> {
        let last_event_id = req.headers().get("last-event-id")?;
        self.with_service(|_| ())?;
        let conn = self.take_conn_id();
        let (sse, body) = SseStream::open(conn, &self.outbox)?;
        self.conns.borrow_mut().insert(conn, Conn::Sse(sse.clone()));
        let step = self.with_service(|s| {
            let since = last_event_id.as_deref();
            s.open_watch(conn, &http.query, since, &http.principal, now())
        })?;
        if let Err(e) = step.value {
            self.conns.borrow_mut().remove(&conn);
            self.carry_out(step.effects).await?;
            return to_response(e.to_response());
        }
        self.carry_out(step.effects).await?;
        // The keep-alive also finds streams whose client left: their session is closed at the
        // next event.
        self.outbox.keep_alive(conn, sse);
        let version = self.with_service(|s| s.registry().head())?;
        let headers = worker::Headers::new();
        headers.set("content-type", "text/event-stream; charset=utf-8")?;
        headers.set("cache-control", "no-cache")?;
        headers.set(registry_core::VERSION_HEADER, &version.to_string())?;
        Ok(Response::from_body(ResponseBody::Stream(body))?.with_headers(headers))
    }
}
