//! One client's session over its WebSocket, without I/O: the subscriptions it keeps (watches by
//! id with their [`Cursor`]s, published registers, validators), what a socket that opens must be
//! sent, the calls awaiting replies, and the change requests in flight until their outcome.
//!
//! The host reports I/O events ([`Session::connected`], [`Session::received`],
//! [`Session::disconnected`], [`Session::polled`]) and the application's actions ([`Session::watch`],
//! [`Session::request`], …); each returns a [`Ready`]: the texts to send on the open socket, what
//! to hand to the application, and the requests whose outcome must be read over HTTP. The host
//! does nothing else with the protocol.
//!
//! Guarantees, checked natively by `tests/tests/streams/client_session.rs` with a cut at every
//! message boundary: a watch processes each version at most once and resumes where it stopped;
//! registrations are re-sent on every socket; a request not acknowledged before its socket was
//! lost is sent again; an acknowledged one gets its outcome over the socket or, once the socket
//! is lost, over HTTP (`GET /v1/requests/{id}`), and the application receives it once.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::provided::Published;
use super::requests::Requests;
use super::subscriptions::{Replied, Subscriptions};
use super::Cursor;
use crate::stream::wire::{Outbound, Ref, ServerMsg};

pub use super::requests::{Outcome, FINAL};
pub use super::subscriptions::Msg;

/// What the session hands to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The message received is news for this watch (a snapshot, or a change not seen yet):
    /// apply it to what the watch shows.
    Watch(String),
    /// The watch was refused (other than for an unknown `since`, handled here): it is dropped.
    WatchFailed(String),
    /// The registry has the validator (`Ok`), or refused it (`Err`: the error JSON).
    ValidatorReady(String, Result<(), String>),
    /// A transaction for a validator of this client (the message received holds it).
    Validate {
        /// The validator.
        validator: String,
        /// The transaction.
        tx: u64,
    },
    /// A change request for a register this client provides (the message received holds it).
    Request {
        /// The request id.
        request: u64,
    },
    /// A call's reply: `Ok` or the registry's error (JSON).
    Reply(u64, Result<(), String>),
    /// A call sent on a socket that was lost before its reply: it may or may not have been
    /// applied.
    Lost(u64),
    /// The final outcome of a request of this client (exactly once per request).
    Outcome(Outcome),
}

/// What the host does after an event.
#[derive(Debug, Default)]
pub struct Ready {
    /// Texts to send on the open socket, in order.
    pub send: Vec<String>,
    /// What to hand to the application, in order.
    pub deliver: Vec<Delivery>,
    /// Request ids whose outcome is now to be read over HTTP (report it with
    /// [`Session::polled`]).
    pub poll: Vec<u64>,
}

/// What a numeric `ref` awaits.
#[derive(Debug, Clone)]
enum Awaiting {
    Call(u64),
    Request(u64),
    /// An applied verdict: the provided value to put back if the registry refuses it
    /// (name, value before, value adopted).
    Applied(u64, String, Box<RawValue>, Box<RawValue>),
}

/// One client's session state (see the module documentation).
#[derive(Debug, Default)]
pub struct Session {
    subs: Subscriptions,
    next_ref: u64,
    /// Published registers.
    provided: Published,
    /// Change requests delivered to this client's providers, awaiting its verdict.
    delivered: BTreeMap<u64, (String, Box<RawValue>)>,
    requests: Requests,
    awaiting: BTreeMap<u64, Awaiting>,
}

impl Session {
    /// Whether a socket is open.
    pub fn is_open(&self) -> bool {
        self.subs.is_open()
    }

    fn with_ref(&mut self, msg: &Msg, awaiting: Awaiting) -> (u64, String) {
        self.next_ref += 1;
        let r = self.next_ref;
        self.awaiting.insert(r, awaiting);
        let text = Outbound {
            reference: Ref::Number(r),
            msg,
        }
        .to_text();
        (r, text)
    }

    fn request_text(&mut self, local: u64) -> Option<String> {
        let msg = self.requests.sending(local, self.next_ref + 1)?;
        Some(self.with_ref(&msg, Awaiting::Request(local)).1)
    }

    /// Watches entries by id (`names`) or by a query (`criteria`); returns its id (`w…`).
    pub fn watch(
        &mut self,
        names: Option<Vec<String>>,
        criteria: Option<Vec<String>>,
    ) -> (String, Ready) {
        let (id, text) = self.subs.watch(names, criteria);
        (id, ready_sending(text))
    }

    /// Stops a watch.
    pub fn unwatch(&mut self, id: &str) -> Ready {
        ready_sending(self.subs.unwatch(id))
    }

    /// The resume point of a watch.
    pub fn cursor(&self, id: &str) -> Option<Cursor> {
        self.subs.cursor(id)
    }

    /// Registers a validator; returns its id (`v…`).
    pub fn validate(&mut self, criteria: Vec<String>) -> (String, Ready) {
        let (id, text) = self.subs.validate(criteria);
        (id, ready_sending(text))
    }

    /// Unregisters a validator.
    pub fn unvalidate(&mut self, id: &str) -> Ready {
        ready_sending(self.subs.unvalidate(id))
    }

    /// Publishes (or republishes) a register (value and metadata as JSON text, TTL as a Go
    /// duration): sent now as a call when the socket is open (its reply is
    /// [`Delivery::Reply`]), and again on every socket that opens.
    pub fn provide(
        &mut self,
        name: &str,
        value: Box<RawValue>,
        metadata: Option<Box<RawValue>>,
        ttl: Option<String>,
    ) -> (Option<u64>, Ready) {
        self.provided.set(name, value, metadata, ttl);
        // Sent again on every socket, whatever the registry answers.
        self.provided.confirm(name);
        if !self.is_open() {
            return (None, Ready::default());
        }
        let msg = Msg::Provide {
            registers: self.provided.registers(name),
        };
        let (r, text) = self.call_text(&msg);
        (Some(r), ready_sending(Some(text)))
    }

    /// Stops providing a register.
    pub fn unprovide(&mut self, name: &str) -> Ready {
        let mut ready = Ready::default();
        if self.provided.remove(name) && self.is_open() {
            let msg: Msg = Msg::Unprovide {
                names: vec![name.to_string()],
            };
            ready.send.push(msg.to_text());
        }
        ready
    }

    fn call_text(&mut self, msg: &Msg) -> (u64, String) {
        let (r, text) = self.with_ref(msg, Awaiting::Call(0));
        // A call is known by its ref.
        self.awaiting.insert(r, Awaiting::Call(r));
        (r, text)
    }

    /// Sends a message whose reply the application awaits (a verdict, a decision): `None` when
    /// no socket is open (the host then uses HTTP, or gives up).
    pub fn call(&mut self, msg: &Msg) -> Option<(u64, Ready)> {
        if !self.is_open() {
            return None;
        }
        let (r, text) = self.call_text(msg);
        Some((r, ready_sending(Some(text))))
    }

    /// The verdict of this client's provider on a delivered change request: `None` when no
    /// socket is open. `apply`: the registry sets the register to the requested value, so the
    /// session publishes that value from now on (on every reconnect), unless the registry
    /// refuses the verdict.
    pub fn verdict(
        &mut self,
        request: u64,
        accept: bool,
        reason: Option<String>,
        apply: bool,
    ) -> Option<(u64, Ready)> {
        if !self.is_open() {
            return None;
        }
        let msg = Msg::Verdict {
            request,
            accept,
            reason,
            apply,
        };
        let (r, text) = self.call_text(&msg);
        let delivered = self.delivered.remove(&request);
        if let (true, true, Some((name, value))) = (accept, apply, delivered) {
            if let Some(before) = self.provided.adopt(&name, value.clone()) {
                self.awaiting
                    .insert(r, Awaiting::Applied(r, name, before, value));
            }
        }
        Some((r, ready_sending(Some(text))))
    }

    /// Asks for a change of register `name`; returns the request's local handle. Its outcome
    /// comes once as [`Delivery::Outcome`], across reconnects.
    pub fn request(&mut self, name: &str, value: Box<RawValue>) -> (u64, Ready) {
        let local = self.requests.add(name, value);
        let mut ready = Ready::default();
        if self.is_open() {
            ready.send.extend(self.request_text(local));
        }
        (local, ready)
    }

    /// A socket opened: every subscription, then every request not acknowledged yet.
    pub fn connected(&mut self) -> Ready {
        let mut ready = Ready {
            send: self.subs.connected(),
            ..Ready::default()
        };
        ready.send.extend(self.provided.resume());
        for local in self.requests.unsent() {
            ready.send.extend(self.request_text(local));
        }
        ready
    }

    /// The socket closed or failed: calls awaiting replies are lost, requests not acknowledged
    /// are sent again on the next socket, acknowledged ones are read over HTTP.
    pub fn disconnected(&mut self) -> Ready {
        self.subs.disconnected();
        let mut ready = Ready::default();
        // Verdicts not given yet are given on the next socket (requests stay delivered).
        for (_, awaiting) in std::mem::take(&mut self.awaiting) {
            match awaiting {
                // An applied verdict lost with its socket may have been applied: the adopted
                // value stays.
                Awaiting::Call(r) | Awaiting::Applied(r, ..) => {
                    ready.deliver.push(Delivery::Lost(r))
                }
                Awaiting::Request(_) => {}
            }
        }
        ready.poll = self.requests.disconnected();
        ready
    }

    /// A request's record read over HTTP (`GET /v1/requests/{id}`): its outcome if final and
    /// not delivered yet.
    pub fn polled(&mut self, request: u64, status: &str, reason: Option<&str>) -> Ready {
        let mut ready = Ready::default();
        let outcome = self.requests.finish(request, status, reason);
        ready.deliver.extend(outcome.map(Delivery::Outcome));
        ready
    }

    /// A message received on the open socket.
    pub fn received(&mut self, msg: &ServerMsg<'_>) -> Ready {
        let mut ready = Ready::default();
        match msg {
            ServerMsg::Snapshot(_) | ServerMsg::Change(_) | ServerMsg::Synced(_) => {
                if let Some(id) = self.subs.admit(msg) {
                    ready.deliver.push(Delivery::Watch(id.to_string()));
                }
            }
            ServerMsg::Request(m) => {
                let value = m.value.to_owned();
                self.delivered
                    .insert(m.request, (m.name.to_string(), value));
                ready.deliver.push(Delivery::Request { request: m.request });
            }
            // Also for a validator closed meanwhile: the application has no objection.
            ServerMsg::Validate(m) => {
                ready.deliver.push(Delivery::Validate {
                    validator: m.validator.to_string(),
                    tx: m.tx,
                });
            }
            ServerMsg::Outcome(m) => {
                let reason = m.reason.as_deref();
                let outcome = self.requests.finish(m.request, &m.status, reason);
                ready.deliver.extend(outcome.map(Delivery::Outcome));
            }
            ServerMsg::Ok(reply) => {
                self.replied(Ref::of(reply.reference), Ok(reply.request), &mut ready)
            }
            ServerMsg::Error(e) => {
                self.replied(Ref::of(e.reference), Err(e.error.get()), &mut ready)
            }
            ServerMsg::Pong => {}
        }
        ready
    }

    fn replied(
        &mut self,
        reference: Option<Ref<'_>>,
        result: Result<Option<u64>, &str>,
        ready: &mut Ready,
    ) {
        match reference {
            Some(Ref::Id(id)) => {
                let (replied, text) = self.subs.replied(id, result.err().map(error_code));
                ready.send.extend(text);
                match replied {
                    Replied::Nothing => {}
                    Replied::WatchFailed(id) => ready.deliver.push(Delivery::WatchFailed(id)),
                    Replied::Validator(id, ok) => {
                        let result = match result {
                            Err(e) if !ok => Err(e.to_string()),
                            _ => Ok(()),
                        };
                        ready.deliver.push(Delivery::ValidatorReady(id, result));
                    }
                }
            }
            Some(Ref::Number(r)) => match self.awaiting.remove(&r) {
                Some(Awaiting::Call(call)) => {
                    let result = result.map(|_| ()).map_err(str::to_string);
                    ready.deliver.push(Delivery::Reply(call, result));
                }
                Some(Awaiting::Applied(call, name, before, adopted)) => {
                    if result.is_err() {
                        // Refused: not applied; put the value back unless it changed since.
                        self.provided.restore(&name, before, &adopted);
                    }
                    let result = result.map(|_| ()).map_err(str::to_string);
                    ready.deliver.push(Delivery::Reply(call, result));
                }
                Some(Awaiting::Request(local)) => {
                    let outcome = self.requests.replied(local, result);
                    ready.deliver.extend(outcome.map(Delivery::Outcome));
                }
                None => {}
            },
            None => {}
        }
    }
}

fn ready_sending(text: Option<String>) -> Ready {
    Ready {
        send: text.into_iter().collect(),
        ..Ready::default()
    }
}

/// The `code` of an error object (JSON text).
fn error_code(error: &str) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct Coded<'a> {
        #[serde(borrow)]
        code: Option<&'a str>,
    }
    serde_json::from_str::<Coded>(error).ok()?.code
}
