//! Bounds and defaults of a registry. Every bound is enforced with a clear 4xx error that
//! changes nothing.

use crate::duration::Millis;

/// Limits and defaults of one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Largest entry (value + metadata as JSON text).
    pub max_entry_bytes: usize,
    /// Most entries a registry holds.
    pub max_entries: usize,
    /// Most bytes of entries a registry holds: ids, values and metadata as JSON text, summed
    /// over entries. Bounds the memory the host's isolate needs to hold the state and replay
    /// history (see `docs/decisions.md`, "Limits").
    pub max_state_bytes: usize,
    /// Most names in one request (query names or body registers).
    pub max_names_per_request: usize,
    /// Longest long poll; longer `wait`s are capped to this.
    pub max_wait_ms: Millis,
    /// TTL of a register whose provider gave none (or ≤ 0).
    pub default_ttl_ms: Millis,
    /// Longest TTL an entry may have: an expiry must stay within what the host's alarm
    /// accepts (Durable Object alarms refuse dates after the year 2189).
    pub max_ttl_ms: Millis,
    /// Most pending change requests a registry holds.
    pub max_pending_requests: usize,
    /// Most bytes (names and values as JSON) of pending change requests a registry holds.
    pub max_pending_request_bytes: usize,
    /// How long a change request waits for a provider before it expires.
    pub request_ttl_ms: Millis,
    /// Most long polls held at once.
    pub max_waiters: usize,
    /// A full checkpoint of the state is kept every this many versions (bounds `state_at`).
    pub checkpoint_interval: u64,
    /// Retention: keep at least this many versions (`None` = all). Older versions are folded
    /// into the base checkpoint at checkpoint boundaries, so up to `max_versions +
    /// checkpoint_interval` versions are readable.
    pub max_versions: Option<u64>,
    /// Query results kept in the LRU cache (keyed by canonical query and version).
    pub query_cache_entries: usize,
    /// Compiled regexes kept in the LRU cache.
    pub pattern_cache_entries: usize,
    /// Most stream connections (WebSocket and SSE) open at once.
    pub max_sessions: usize,
    /// Most watches on one connection.
    pub max_watches_per_session: usize,
    /// Most connections held open at once, long polls and stream sessions together (each
    /// keeps a socket open on the host; see `docs/decisions.md`, "Held connections").
    pub max_held_connections: usize,
    /// Most register gauges one `GET /metrics` answer carries (the rest are left out and
    /// `registry_metrics_truncated` is 1).
    pub max_metric_gauges: usize,
    /// Most bytes of register gauges one `GET /metrics` answer carries (same truncation).
    pub max_metrics_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_entry_bytes: 64 << 10,
            max_entries: 10_000,
            max_state_bytes: 4 << 20,
            max_names_per_request: 1_000,
            max_wait_ms: 60_000,
            default_ttl_ms: 10_000,
            // Ten years of 365.25 days.
            max_ttl_ms: 315_576_000_000,
            max_pending_requests: 1_000,
            max_pending_request_bytes: 4 << 20,
            request_ttl_ms: 60_000,
            max_waiters: 10_000,
            checkpoint_interval: 256,
            max_versions: None,
            query_cache_entries: 256,
            pattern_cache_entries: 256,
            max_sessions: 10_000,
            max_watches_per_session: 256,
            max_held_connections: 2_000,
            max_metric_gauges: 10_000,
            max_metrics_bytes: 2 << 20,
        }
    }
}
