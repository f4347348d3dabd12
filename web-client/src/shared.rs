//! The state one `RegistryClient` shares between its streams, providers and its two polling
//! loops (one consumer long poll, one provider long poll, whatever the number of streams).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use web_sys::AbortController;

use crate::provider::ProviderState;
use crate::stream::Stream;

/// Client-wide state.
pub struct Shared {
    /// Registry base URL without a trailing `/`.
    pub base: String,
    /// `wait` of the long polls (Go duration).
    pub wait: String,
    /// Set by `close()`.
    pub closed: bool,
    /// Streams of `consume(name)`, by name.
    pub consumers: BTreeMap<String, Vec<Stream>>,
    /// Streams of `consumeAll()`.
    pub all: Vec<Stream>,
    /// The last state seen per consumed name: `Some(json)` present, `None` absent.
    pub last: HashMap<String, Option<String>>,
    /// The last full snapshot seen by `consumeAll()` streams.
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
    /// Aborted by `close()`: ends every request of the client.
    pub lifetime: AbortController,
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
