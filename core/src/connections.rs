//! The registry-wide bound on connections held open: long polls (consumer, provider and
//! outcome polls, transactions awaiting validators) and stream sessions (SSE and WebSocket)
//! together. Each one keeps a socket open on the host, so together they are bounded by what
//! the host can hold (`Limits::max_held_connections`; see `docs/decisions.md`).

use crate::api::ApiError;
use crate::service::Service;
use crate::store::Store;

impl<S: Store> Service<S> {
    /// Connections held open now: waiting requests plus stream sessions.
    pub fn held_connections(&self) -> usize {
        self.waiters.len() + self.sessions.map.len()
    }

    /// Refuses one more held connection with 429 `capacity_exceeded` (answered with
    /// `Retry-After`) when the registry already holds `max_held_connections`.
    pub(crate) fn check_connection_capacity(&self) -> Result<(), ApiError> {
        let held = self.held_connections();
        if held >= self.limits.max_held_connections {
            return Err(ApiError::capacity(format!(
                "too many connections held open (long polls and streams, limit {}); retry later",
                self.limits.max_held_connections
            )));
        }
        Ok(())
    }
}
