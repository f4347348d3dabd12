//! The state one `RegistryClient` shares between its streams, providers, validators and its
//! transport: one WebSocket carrying every subscription, or — when the socket cannot be opened
//! (or `transport: "long-poll"`) — one consumer long poll and one provider long poll, whatever
//! the number of streams.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use web_sys::{AbortController, AbortSignal};

use crate::abort::Listener;
use crate::provider::ProviderState;
use crate::status::StatusState;
use crate::stream::Stream;
use crate::validator::ValidatorState;
use crate::ws::WsState;
use crate::ws_watch::Watch;

pub use registry_core::client::transport::{Mode, Preference};

/// Client-wide state.
pub struct Shared {
    /// Registry base URL without a trailing `/`.
    pub base: String,
    /// `options.token`: sent as `Authorization: Bearer` over HTTP and as the `bearer.<token>`
    /// subprotocol on the WebSocket.
    pub token: Option<String>,
    /// `wait` of the long polls (Go duration).
    pub wait: String,
    /// Set by `close()`.
    pub closed: bool,
    /// The transport in use and when to fall back (registry_core::client::transport).
    pub transport: registry_core::client::transport::Transport,
    /// The socket and its bookkeeping.
    pub ws: WsState,
    /// The connection status and its listeners.
    pub status: StatusState,
    /// Streams of `consume(name)`, by name.
    pub consumers: BTreeMap<String, Vec<Stream>>,
    /// Streams of `consumeAll()`.
    pub all: Vec<Stream>,
    /// Streams of `watch(criteria)` (over either transport).
    pub queries: Vec<Stream>,
    /// The last state seen per consumed name: `Some(json)` present, `None` absent.
    pub last: HashMap<String, Option<String>>,
    /// On long polls, the last registers (JSON) seen by `consumeAll()` streams (a WebSocket
    /// watch keeps its own, per register).
    pub last_all: Option<String>,
    /// The registry version of the last consumer poll (for `since=`).
    pub since: Option<u64>,
    /// Whether the consumer loop runs.
    pub consumer_running: bool,
    /// Aborts the consumer poll in flight (to restart it with new names).
    pub consumer_abort: Option<AbortController>,
    /// The next consumer poll must answer at once (new names to fetch).
    pub snapshot_needed: bool,
    /// Providers by name.
    pub providers: BTreeMap<String, Rc<ProviderState>>,
    /// Whether the provider loop runs.
    pub provider_running: bool,
    /// Aborts the provider poll in flight.
    pub provider_abort: Option<AbortController>,
    /// WebSocket watches by watch id (kept across reconnects).
    pub watches: BTreeMap<String, Watch>,
    /// The watch id of each consumed name.
    pub name_watch: HashMap<String, String>,
    /// The watch id of `consumeAll()` streams.
    pub all_watch: Option<String>,
    /// Validators by id.
    pub validators: BTreeMap<String, Rc<ValidatorState>>,
    /// Watch and validator ids, watch cursors, what a socket that opens is sent
    /// (registry_core::client::subscriptions: the protocol state, without I/O).
    pub subs: registry_core::client::subscriptions::Subscriptions,
    /// The registers the providers publish and what a socket that opens is sent again
    /// (registry_core::client::provided).
    pub published: registry_core::client::provided::Published,
    /// The change requests sent over sockets until their outcome
    /// (registry_core::client::requests).
    pub requests: registry_core::client::requests::Requests,
    /// Who awaits each of them, by local handle (dropped by `close()`).
    pub waiters: Vec<(u64, crate::requests::Waiter)>,
    /// `answer(id, accept, apply, reason)`: the verdict function behind `accept()`/`reject()`
    /// of change request items (one per client).
    pub answer: wasm_bindgen::JsValue,
    /// Aborted by `close()`: ends every request of the client.
    pub lifetime: AbortController,
    /// The listener of `options.signal` that closes the client (dropped on close).
    pub abort: Option<Listener>,
}

impl Shared {
    /// A fresh client state.
    pub fn new(
        base: String,
        token: Option<String>,
        wait: String,
        preference: Preference,
    ) -> Result<Self, wasm_bindgen::JsValue> {
        Ok(Shared {
            base,
            token,
            wait,
            closed: false,
            transport: registry_core::client::transport::Transport::new(preference),
            ws: WsState::default(),
            status: StatusState::new(preference == Preference::LongPoll),
            consumers: BTreeMap::new(),
            all: Vec::new(),
            queries: Vec::new(),
            last: HashMap::new(),
            last_all: None,
            since: None,
            consumer_running: false,
            consumer_abort: None,
            snapshot_needed: false,
            providers: BTreeMap::new(),
            provider_running: false,
            provider_abort: None,
            watches: BTreeMap::new(),
            name_watch: HashMap::new(),
            all_watch: None,
            validators: BTreeMap::new(),
            subs: Default::default(),
            published: Default::default(),
            requests: Default::default(),
            waiters: Vec::new(),
            answer: wasm_bindgen::JsValue::UNDEFINED,
            lifetime: AbortController::new()?,
            abort: None,
        })
    }

    /// The base URL, the client's lifetime signal (aborted by `close()`) and its token, for a
    /// request.
    pub fn endpoint(&self) -> (String, AbortSignal, Option<String>) {
        (
            self.base.clone(),
            self.lifetime.signal(),
            self.token.clone(),
        )
    }
}

/// A shared handle.
pub type SharedRef = Rc<RefCell<Shared>>;

/// Aborts a poll in flight (taken out of the state first: no borrow is held while JS runs).
pub fn abort(controller: Option<AbortController>) {
    if let Some(c) = controller {
        c.abort();
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
