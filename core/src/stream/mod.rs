//! Streams: the sessions of WebSocket and Server-Sent-Events clients (SPEC §5 Streaming).
//!
//! A host opens a session per connection ([`crate::Service::open_session`]), feeds it the
//! client's messages ([`crate::Service::on_message`]) and sends whatever
//! [`crate::Service::take_outgoing`] returns. A session's subscriptions are plain data
//! ([`SessionState`]): a host that hibernates keeps them with the socket and restores them with
//! [`crate::Service::restore_sessions`]. Watches resume losslessly from a version (see
//! [`watch`]); change requests and remote validators ride on the same session.

pub mod message;
pub mod watch;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::query::eval::Compiled;
use watch::{Watch, WatchSpec};

/// Identifies one connection; chosen by the host, unique among its open connections.
pub type ConnId = u64;

/// The code a host sends back to complete a WebSocket's closing handshake after the client
/// closed with `received`: the same code, except 1005 (no code given) and 1006 (abnormal
/// closure), which are reserved and never sent, and become 1000 (normal closure).
///
/// ```
/// use registry_core::stream::close_reply_code;
/// assert_eq!(close_reply_code(4001), 4001);
/// assert_eq!(close_reply_code(1005), 1000);
/// assert_eq!(close_reply_code(1006), 1000);
/// ```
pub fn close_reply_code(received: usize) -> u16 {
    match received {
        1005 | 1006 => 1000,
        code => u16::try_from(code).unwrap_or(1000),
    }
}

/// One message for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The connection.
    pub conn: ConnId,
    /// The message type (`change`, `snapshot`, `synced`, `request`, `outcome`, `validate`,
    /// `ok`, `error`): the SSE `event:` name.
    pub event: &'static str,
    /// The registry version the message reflects, if any: the SSE `id:`.
    pub version: Option<u64>,
    /// The JSON message.
    pub text: String,
}

/// What a session subscribed to: everything needed to restore it (kept by hibernating hosts
/// with the socket).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// Watches by the client's id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub watches: BTreeMap<String, WatchSpec>,
    /// Names this connection provides (it receives their change requests).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub provides: BTreeSet<String>,
    /// Validators by the client's id: their criteria.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub validators: BTreeMap<String, Vec<String>>,
    /// Change requests made on this connection whose outcome it awaits.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub requested: BTreeSet<u64>,
    /// Who opened the connection (absent: open mode, as in sessions saved before access
    /// control).
    #[serde(default, skip_serializing_if = "Principal::is_open")]
    pub principal: Principal,
}

/// A live session: what it subscribed to, with the criteria compiled. Its [`SessionState`] is
/// derived from it ([`Session::state`]).
#[derive(Debug, Default)]
pub struct Session {
    /// Watches by id: as given, and compiled.
    pub watches: BTreeMap<String, (WatchSpec, Watch)>,
    /// Validators by id: their criteria as given, and compiled.
    pub validators: BTreeMap<String, (Vec<String>, Compiled)>,
    /// Names this connection provides.
    pub provides: BTreeSet<String>,
    /// Change requests made on this connection whose outcome it awaits.
    pub requested: BTreeSet<u64>,
    /// Who opened the connection: every message is checked against it and every watch sees
    /// only what it may read.
    pub principal: Principal,
}

impl Session {
    /// What a hibernating host keeps of it.
    pub fn state(&self) -> SessionState {
        SessionState {
            watches: self
                .watches
                .iter()
                .map(|(id, (spec, _))| (id.clone(), spec.clone()))
                .collect(),
            provides: self.provides.clone(),
            validators: self
                .validators
                .iter()
                .map(|(id, (criteria, _))| (id.clone(), criteria.clone()))
                .collect(),
            requested: self.requested.clone(),
            principal: self.principal.clone(),
        }
    }
}

/// Every session of a registry and the messages waiting to be sent.
#[derive(Debug, Default)]
pub struct Sessions {
    /// Sessions by connection.
    pub map: HashMap<ConnId, Session>,
    /// Connections providing each name, oldest first (the newest takes requests).
    pub providers: HashMap<String, Vec<ConnId>>,
    /// The session awaiting the outcome of each request made over a stream.
    pub requesters: HashMap<u64, ConnId>,
    /// Messages to send, in order.
    pub out: Vec<Outgoing>,
    /// Connections whose [`SessionState`] changed (or that closed) since it was last saved.
    pub dirty: BTreeSet<ConnId>,
    /// Connections whose session is not saved (SSE streams end with the object).
    pub ephemeral: BTreeSet<ConnId>,
}

impl Sessions {
    /// Queues a message.
    pub fn send(&mut self, conn: ConnId, msg: &wire::ServerMsg<'_>) {
        self.out.push(Outgoing {
            conn,
            event: msg.event(),
            version: msg.version(),
            text: msg.to_text(),
        });
    }

    /// The newest connection providing `name`.
    pub fn provider_of(&self, name: &str) -> Option<ConnId> {
        self.providers.get(name).and_then(|c| c.last().copied())
    }

    /// Records that `conn` provides `name` (it becomes the newest provider).
    pub fn add_provider(&mut self, conn: ConnId, name: &str) {
        let list = self.providers.entry(name.to_string()).or_default();
        list.retain(|c| *c != conn);
        list.push(conn);
    }

    /// Records that `conn` no longer provides `name`.
    pub fn remove_provider(&mut self, conn: ConnId, name: &str) {
        if let Some(list) = self.providers.get_mut(name) {
            list.retain(|c| *c != conn);
            if list.is_empty() {
                self.providers.remove(name);
            }
        }
    }
}
