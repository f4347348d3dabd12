//! The client side of the stream protocol, without I/O: what a client (the web client, or a
//! native test) decides about the messages it receives and the sockets it opens. The host does
//! the I/O and feeds this the decoded [`ServerMsg`]s.
//!
//! - [`Cursor`]: one watch's resume point; decides which `snapshot`/`change`/`synced` messages
//!   to process (a `change` at or below the last processed version is a duplicate from a
//!   resumed backlog) and the `since` of the `watch` message a reopened socket sends again.
//! - [`Backoff`]: the reconnect policy (100 ms doubling to 5 s, reset once a socket opens).
//! - [`transport`]: WebSocket or long polls, and when to fall back.
//! - [`status`]: the connection status the client reports (`connecting`, `live`, …).
//! - [`subscriptions`]: watches and validators by id, re-sent on every socket.
//! - [`provided`]: the registers a client publishes, re-sent on every socket.
//! - [`requests`]: change requests until their outcome, across reconnects.
//! - [`session`]: a whole session (subscriptions, published registers, calls, change requests
//!   until their outcome) driven by I/O events, returning what to send and deliver.

use crate::stream::wire::{ClientMsg, ServerMsg};

pub mod provided;
pub mod requests;
pub mod session;
pub mod status;
pub mod subscriptions;
pub mod transport;

/// First reconnect delay (ms).
pub const BACKOFF_MIN_MS: u32 = 100;
/// Longest reconnect delay (ms).
pub const BACKOFF_MAX_MS: u32 = 5_000;

/// The reconnect policy: the delay before the next attempt doubles after every failure, from
/// [`BACKOFF_MIN_MS`] up to [`BACKOFF_MAX_MS`], and starts over once a socket opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    next: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: BACKOFF_MIN_MS,
        }
    }
}

impl Backoff {
    /// A socket opened: the next failure waits the shortest delay again.
    pub fn opened(&mut self) {
        self.next = BACKOFF_MIN_MS;
    }

    /// A socket closed or failed: the delay (ms) before the next attempt.
    pub fn failed(&mut self) -> u32 {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(BACKOFF_MAX_MS);
        delay
    }
}

/// What to do with a watch message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Process it: the watch's view is replaced (`snapshot`) or changed (`change`).
    Process,
    /// Already processed (a `change` at or below the cursor): ignore it.
    Duplicate,
    /// Nothing to process (`synced`); the cursor moved.
    Marker,
}

/// The resume point of one watch: the version of the last `snapshot`/`change`/`synced` it
/// processed (`None`: none yet, the next `watch` asks for a snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    version: Option<u64>,
}

impl Cursor {
    /// The version last processed.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// Whether nothing was processed yet (the first snapshot is news whatever it holds).
    pub fn is_fresh(&self) -> bool {
        self.version.is_none()
    }

    /// Starts over from a snapshot (the registry does not know the `since`: it was reset).
    pub fn reset(&mut self) {
        self.version = None;
    }

    /// Decides about a message of this watch and moves the cursor accordingly. Messages of
    /// other types are [`Admit::Marker`]s that change nothing.
    pub fn admit(&mut self, msg: &ServerMsg<'_>) -> Admit {
        match msg {
            ServerMsg::Snapshot(m) => {
                self.version = Some(m.version);
                Admit::Process
            }
            ServerMsg::Change(m) => {
                if self.version.is_some_and(|last| m.version <= last) {
                    return Admit::Duplicate;
                }
                self.version = Some(m.version);
                Admit::Process
            }
            ServerMsg::Synced(m) => {
                self.version = Some(self.version.map_or(m.version, |v| v.max(m.version)));
                Admit::Marker
            }
            _ => Admit::Marker,
        }
    }

    /// The `watch` message that (re)starts this watch: from the cursor when it has one.
    pub fn watch_message<V>(
        &self,
        watch: &str,
        names: Option<Vec<String>>,
        criteria: Option<Vec<String>>,
    ) -> ClientMsg<V> {
        ClientMsg::Watch {
            watch: watch.to_string(),
            names,
            criteria,
            since: self.version,
        }
    }
}

/// The watch a `snapshot`, `change` or `synced` message is for.
pub fn watch_of<'m>(msg: &'m ServerMsg<'_>) -> Option<&'m str> {
    match msg {
        ServerMsg::Snapshot(m) => Some(&m.watch),
        ServerMsg::Change(m) => Some(&m.watch),
        ServerMsg::Synced(m) => Some(&m.watch),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_five_seconds_and_resets_when_a_socket_opens() {
        let mut b = Backoff::default();
        let delays: Vec<u32> = (0..8).map(|_| b.failed()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        b.opened();
        assert_eq!(b.failed(), 100);
    }

    #[test]
    fn a_cursor_drops_changes_at_or_below_it_and_resumes_from_it() {
        let text = |t: &str, v: u64| {
            format!(
                r#"{{"type":"{t}","watch":"w","version":{v},"actor":"a","ops":[],"entries":[]}}"#
            )
        };
        let mut c = Cursor::default();
        let admit = |c: &mut Cursor, t: &str, v: u64| {
            let s = text(t, v);
            c.admit(&ServerMsg::decode(&s).unwrap().unwrap())
        };
        assert_eq!(admit(&mut c, "snapshot", 3), Admit::Process);
        assert_eq!(admit(&mut c, "synced", 3), Admit::Marker);
        assert_eq!(admit(&mut c, "change", 3), Admit::Duplicate);
        assert_eq!(admit(&mut c, "change", 5), Admit::Process);
        assert_eq!(admit(&mut c, "change", 4), Admit::Duplicate);
        let msg: ClientMsg = c.watch_message("w", Some(vec!["a".into()]), None);
        assert!(matches!(msg, ClientMsg::Watch { since: Some(5), .. }));
        c.reset();
        assert!(c.is_fresh());
    }
}
