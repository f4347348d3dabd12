//! The native test harness: the very `registry_core::Service` the worker drives, driven here
//! with a simulated clock and an in-memory store, in-process. A long poll is a [`Ticket`] that
//! completes when the service wakes it or when simulated time passes its deadline.
//!
//! ```
//! use registry_tests::Harness;
//! let mut h = Harness::new();
//! let poll = h.start("GET", "/consumer?name=a&wait=5s", "");
//! h.advance(100);
//! assert!(h.result(&poll).is_none());
//! h.put("/provider", r#"{"registers":{"a":{"value":1}}}"#);
//! assert_eq!(h.result(&poll).unwrap().json_body()["registers"]["a"]["value"], 1);
//! ```

pub mod fuzz;
pub mod query_fuzz;

use std::collections::{BTreeMap, HashMap};

use registry_core::auth::Principal;
use registry_core::stream::ConnId;
use registry_core::{
    Effects, HttpRequest, HttpResponse, Limits, MemStore, Millis, Reply, Service, WaiterId,
};
use serde_json::Value;

/// The simulated clock starts here (an arbitrary, realistic Unix time in ms).
pub const EPOCH: Millis = 1_700_000_000_000;

/// A request in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ticket {
    /// Answered at once.
    Done(HttpResponse),
    /// Held as a long poll.
    Held(WaiterId),
}

/// One registry with a simulated clock.
pub struct Harness {
    svc: Service<MemStore>,
    limits: Limits,
    now: Millis,
    held: BTreeMap<WaiterId, Millis>,
    finished: HashMap<WaiterId, (Millis, HttpResponse)>,
    /// Requests started before a restart: their connections were lost.
    lost: Vec<WaiterId>,
    /// Messages received by each open stream connection, not yet taken.
    inbox: BTreeMap<ConnId, Vec<Value>>,
    /// Connections the service asked the host to close.
    closed: Vec<ConnId>,
    /// The alarm as the last effects set it.
    alarm: Option<Millis>,
    /// Who the next requests and connections are made by (open mode by default).
    principal: Principal,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh empty registry with default limits.
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A fresh empty registry with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Harness {
            svc: Service::load(MemStore::default(), limits.clone()).expect("empty store loads"),
            limits,
            now: EPOCH,
            held: BTreeMap::new(),
            finished: HashMap::new(),
            lost: Vec::new(),
            inbox: BTreeMap::new(),
            closed: Vec::new(),
            alarm: None,
            principal: Principal::open(),
        }
    }

    /// Makes the following requests and connections as `principal` (what the host's
    /// authorization of a token gave); [`Principal::open`] goes back to open mode.
    pub fn act_as(&mut self, principal: Principal) {
        self.principal = principal;
    }

    /// The simulated time.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// The service (read-only).
    pub fn service(&self) -> &Service<MemStore> {
        &self.svc
    }

    /// The service, mutably (fault injection).
    pub fn service_mut(&mut self) -> &mut Service<MemStore> {
        &mut self.svc
    }

    /// Sends a request; long polls come back as [`Ticket::Held`].
    pub fn start(&mut self, method: &str, target: &str, body: &str) -> Ticket {
        let req = HttpRequest::new(method, target, body).by(self.principal.clone());
        let step = self.svc.handle(&req, self.now);
        let ticket = match step.value {
            Reply::Respond(r) => Ticket::Done(r),
            Reply::Wait { waiter, deadline } => {
                assert!(deadline >= self.now, "a deadline in the past");
                self.held.insert(waiter, deadline);
                Ticket::Held(waiter)
            }
        };
        self.carry_out(step.effects);
        ticket
    }

    /// Sends a request that must be answered at once.
    pub fn call(&mut self, method: &str, target: &str, body: &str) -> HttpResponse {
        match self.start(method, target, body) {
            Ticket::Done(r) => r,
            Ticket::Held(_) => panic!("{method} {target} was held as a long poll"),
        }
    }

    /// `GET target`, answered at once.
    pub fn get(&mut self, target: &str) -> HttpResponse {
        self.call("GET", target, "")
    }

    /// `PUT target` with a body, answered at once.
    pub fn put(&mut self, target: &str, body: &str) -> HttpResponse {
        self.call("PUT", target, body)
    }

    /// `PUT /provider` of one register with this value (default TTL, no metadata); the write
    /// must succeed (204).
    pub fn provide(&mut self, name: &str, value: Value) {
        let body = serde_json::json!({"registers": {name: {"value": value}}}).to_string();
        let r = self.put("/provider", &body);
        assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    }

    /// The `registers` object of `GET /consumer?<query>`.
    pub fn registers(&mut self, query: &str) -> Value {
        let r = self.get(&format!("/consumer?{query}"));
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json_body()["registers"].clone()
    }

    /// The response of a ticket, once it is answered.
    pub fn result(&self, ticket: &Ticket) -> Option<HttpResponse> {
        self.answered(ticket).map(|(_, r)| r)
    }

    /// The response of a ticket and the simulated instant it was answered.
    pub fn answered(&self, ticket: &Ticket) -> Option<(Millis, HttpResponse)> {
        match ticket {
            Ticket::Done(r) => Some((self.now, r.clone())),
            Ticket::Held(id) => self.finished.get(id).cloned(),
        }
    }

    /// Whether a held request's connection was lost in a restart.
    pub fn was_lost(&self, ticket: &Ticket) -> bool {
        matches!(ticket, Ticket::Held(id) if self.lost.contains(id))
    }

    /// Lets `ms` of simulated time pass, firing alarms (expiries) and long-poll deadlines at
    /// the exact instants they are due.
    pub fn advance(&mut self, ms: Millis) {
        let target = self.now + ms;
        loop {
            let next_alarm = self.alarm;
            let next_deadline = self.held.values().min().copied();
            let next = match (next_alarm, next_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match next {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    let step = self.svc.on_alarm(self.now);
                    step.value.expect("expiry commits");
                    self.carry_out(step.effects);
                    let due: Vec<WaiterId> = self
                        .held
                        .iter()
                        .filter(|(_, d)| **d <= self.now)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in due {
                        self.resume(id);
                    }
                }
                _ => break,
            }
        }
        self.now = target;
    }

    /// Simulates a restart of the host: the in-memory service is dropped and reloaded from the
    /// store; held long polls lose their connections.
    pub fn restart(&mut self) {
        let store = self.svc.store().clone();
        self.lost.extend(self.held.keys().copied());
        self.held.clear();
        self.inbox.clear();
        self.svc = Service::load(store, self.limits.clone()).expect("store reloads");
        // Every connection is gone: their saved sessions are forgotten.
        let step = self.svc.restore_sessions(&[]);
        self.carry_out(step.effects);
    }

    /// [`Harness::restart`] with other limits (as after a redeploy that changed them).
    pub fn restart_with_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.restart();
    }

    /// Opens a stream connection (a WebSocket).
    pub fn connect(&mut self, conn: ConnId) {
        let step = self.svc.open_session(conn, &self.principal);
        step.value.expect("session opens");
        self.inbox.insert(conn, Vec::new());
        self.carry_out(step.effects);
    }

    /// Opens an SSE stream (`GET /v1/watch?<query>`, with a `Last-Event-ID`) on a new
    /// connection; its messages arrive in the connection's inbox like a socket's.
    pub fn open_sse(
        &mut self,
        conn: ConnId,
        query: &str,
        last_event_id: Option<&str>,
    ) -> Result<(), registry_core::ApiError> {
        self.inbox.insert(conn, Vec::new());
        let step = self
            .svc
            .open_watch(conn, query, last_event_id, &self.principal, self.now);
        if step.value.is_err() {
            self.inbox.remove(&conn);
        }
        self.carry_out(step.effects);
        step.value
    }

    /// Sends one message on a connection (a JSON value, or any text).
    pub fn send(&mut self, conn: ConnId, msg: impl ToString) {
        let effects = self.svc.on_message(conn, &msg.to_string(), self.now);
        self.carry_out(effects);
    }

    /// Takes the messages a connection received since the last call; the connection must be
    /// open (a closed or never opened one panics rather than reading as "nothing received").
    pub fn take(&mut self, conn: ConnId) -> Vec<Value> {
        std::mem::take(self.inbox.get_mut(&conn).expect("connection is open"))
    }

    /// Closes a connection.
    pub fn disconnect(&mut self, conn: ConnId) {
        let effects = self.svc.close_session(conn);
        self.inbox.remove(&conn);
        self.carry_out(effects);
    }

    /// The object is evicted and comes back (hibernation): the service is reloaded from the
    /// store and the sessions of the open connections are restored from what the store saved
    /// of them; the sockets stay open.
    pub fn hibernate(&mut self) {
        assert!(
            self.held.is_empty(),
            "a held request keeps the object in memory"
        );
        let open: Vec<ConnId> = self.inbox.keys().copied().collect();
        let store = self.svc.store().clone();
        self.svc = Service::load(store, self.limits.clone()).expect("store reloads");
        let step = self.svc.restore_sessions(&open);
        self.carry_out(step.effects);
    }

    /// Whether the service asked the host to close a connection.
    pub fn was_closed(&self, conn: ConnId) -> bool {
        self.closed.contains(&conn)
    }

    /// Carries out what a call asked of the host, and what that causes in turn: messages go
    /// to their connections' inboxes, closed connections end, the alarm is kept, woken held
    /// requests are resumed (in order).
    fn carry_out(&mut self, effects: Effects) {
        let mut queue = std::collections::VecDeque::from([effects]);
        while let Some(e) = queue.pop_front() {
            for m in e.send {
                if let Some(inbox) = self.inbox.get_mut(&m.conn) {
                    inbox.push(serde_json::from_str(&m.text).expect("messages are JSON"));
                }
            }
            for c in e.close {
                self.inbox.remove(&c);
                self.closed.push(c);
            }
            self.alarm = e.alarm;
            for id in e.wake {
                if self.held.remove(&id).is_some() {
                    let step = self.svc.resume(id, self.now);
                    self.finished.insert(id, (self.now, step.value));
                    queue.push_back(step.effects);
                }
            }
        }
    }

    fn resume(&mut self, id: WaiterId) {
        if self.held.remove(&id).is_some() {
            let step = self.svc.resume(id, self.now);
            self.finished.insert(id, (self.now, step.value));
            self.carry_out(step.effects);
        }
    }
}

/// The values of `key` in every object of a JSON array, as text (strings as they are, other
/// values as JSON): e.g. the ids of a page of entries.
pub fn field(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|item| match &item[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// `"op id"` for every operation of a changeset, e.g. `["create y", "delete x"]`.
pub fn ops(changeset: &Value) -> Vec<String> {
    field(changeset, "op")
        .into_iter()
        .zip(field(changeset, "id"))
        .map(|(op, id)| format!("{op} {id}"))
        .collect()
}

/// The unsigned integers under `key` in every object of a JSON array (e.g. version numbers).
pub fn numbers(items: &Value, key: &str) -> Vec<u64> {
    field(items, key)
        .iter()
        .map(|n| n.parse().expect("an unsigned integer"))
        .collect()
}
