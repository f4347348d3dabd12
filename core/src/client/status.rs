//! The connection status a client reports (`RegistryClient.status`), as a state machine fed
//! with the client's I/O events. Rules:
//!
//! - `connecting` until the first socket opens; `live` while a socket is open.
//! - A socket that closes or fails makes the client `reconnecting` (or still `connecting` if
//!   none ever opened) while it retries with backoff.
//! - `offline` after [`OFFLINE_AFTER`] failed attempts in a row (the sixth comes about 3 s after
//!   the first, with the backoff of [`super::Backoff`]), or at
//!   once when the runtime reports it is offline (`offline` event of browsers). The client
//!   keeps retrying; the next socket that opens makes it `live`, and the runtime's `online`
//!   event makes it `reconnecting` (or `connecting`, `long-poll`) again.
//! - `long-poll` once the client uses HTTP long polls (chosen, or fallen back to); there,
//!   [`OFFLINE_AFTER`] failed polls in a row, or the runtime's `offline`, make it `offline`, and
//!   the next answered poll `long-poll` again.
//! - `closed` after `close()`, for good: no later event changes it.

/// Failed attempts in a row (socket connections or long polls) after which the client is
/// `offline`.
pub const OFFLINE_AFTER: u32 = 6;

/// What a client reports about its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No socket has opened yet.
    Connecting,
    /// A socket is open.
    Live,
    /// The client uses HTTP long polls, and they answer.
    LongPoll,
    /// The socket was lost; the client retries.
    Reconnecting,
    /// The runtime is offline, or [`OFFLINE_AFTER`] attempts in a row failed; still retrying.
    Offline,
    /// The client was closed.
    Closed,
}

impl Status {
    /// The name `RegistryClient.status` reports.
    pub fn name(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Live => "live",
            Status::LongPoll => "long-poll",
            Status::Reconnecting => "reconnecting",
            Status::Offline => "offline",
            Status::Closed => "closed",
        }
    }
}

/// An I/O event the host reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A socket opened.
    Opened,
    /// A socket closed, or could not be opened.
    Failed,
    /// The client switched to long polls (for good).
    FellBack,
    /// A long poll answered.
    PollAnswered,
    /// A long poll failed (network or HTTP error).
    PollFailed,
    /// The runtime reports it is offline.
    RuntimeOffline,
    /// The runtime reports it is online again.
    RuntimeOnline,
    /// The client was closed.
    Closed,
}

/// The status of one client and what it takes into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    status: Status,
    /// Failed attempts since the last success.
    failures: u32,
    /// The runtime said it is offline (and not online since).
    runtime_offline: bool,
    /// A socket has opened once.
    was_live: bool,
    /// The client uses long polls.
    long_poll: bool,
}

impl Tracker {
    /// A new client's status: `long-poll` if it uses long polls from the start, else
    /// `connecting`.
    pub fn new(long_poll: bool) -> Self {
        Tracker {
            status: if long_poll {
                Status::LongPoll
            } else {
                Status::Connecting
            },
            failures: 0,
            runtime_offline: false,
            was_live: false,
            long_poll,
        }
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The status while retrying after `failures` failures in a row.
    fn retrying(&self) -> Status {
        if self.runtime_offline || self.failures >= OFFLINE_AFTER {
            Status::Offline
        } else if self.long_poll {
            Status::LongPoll
        } else if self.was_live {
            Status::Reconnecting
        } else {
            Status::Connecting
        }
    }

    /// Takes an event into account; returns the new status when it changed.
    pub fn on(&mut self, event: Event) -> Option<Status> {
        if self.status == Status::Closed {
            return None;
        }
        let next = match event {
            Event::Closed => Status::Closed,
            Event::Opened if !self.long_poll => {
                self.failures = 0;
                self.was_live = true;
                // A socket that opens proves the runtime online, whatever it said.
                self.runtime_offline = false;
                Status::Live
            }
            Event::FellBack => {
                self.long_poll = true;
                self.failures = 0;
                self.retrying()
            }
            Event::PollAnswered if self.long_poll => {
                self.failures = 0;
                self.runtime_offline = false;
                Status::LongPoll
            }
            Event::Failed | Event::PollFailed => {
                self.failures = self.failures.saturating_add(1);
                self.retrying()
            }
            Event::RuntimeOffline => {
                self.runtime_offline = true;
                Status::Offline
            }
            Event::RuntimeOnline => {
                self.runtime_offline = false;
                if self.status != Status::Offline {
                    return None;
                }
                self.failures = 0;
                self.retrying()
            }
            // A socket event after the switch to long polls, or a poll answer over sockets.
            Event::Opened | Event::PollAnswered => return None,
        };
        (next != self.status).then(|| {
            self.status = next;
            next
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &mut Tracker, events: &[Event]) -> Vec<&'static str> {
        events
            .iter()
            .filter_map(|e| t.on(*e))
            .map(Status::name)
            .collect()
    }

    #[test]
    fn a_lost_socket_reconnects_then_goes_offline_after_six_failures() {
        let mut t = Tracker::new(false);
        assert_eq!(t.status(), Status::Connecting);
        use Event::*;
        assert_eq!(run(&mut t, &[Opened, Failed]), ["live", "reconnecting"]);
        assert_eq!(run(&mut t, &[Failed; 4]), Vec::<&str>::new());
        assert_eq!(run(&mut t, &[Failed, Failed]), ["offline"]);
        assert_eq!(run(&mut t, &[Opened]), ["live"]);
        // The count starts over once a socket opened.
        assert_eq!(run(&mut t, &[Failed; 5]), ["reconnecting"]);
    }

    #[test]
    fn before_the_first_socket_the_client_is_connecting() {
        let mut t = Tracker::new(false);
        use Event::*;
        assert_eq!(run(&mut t, &[Failed; 5]), Vec::<&str>::new());
        assert_eq!(run(&mut t, &[Failed, Opened]), ["offline", "live"]);
    }

    #[test]
    fn the_runtime_going_offline_and_online() {
        let mut t = Tracker::new(false);
        use Event::*;
        assert_eq!(
            run(&mut t, &[Opened, RuntimeOffline, Failed, RuntimeOnline]),
            ["live", "offline", "reconnecting"]
        );
        // Online while not offline changes nothing.
        assert_eq!(run(&mut t, &[RuntimeOnline, Opened]), ["live"]);
        // Offline, then a socket opens anyway: live.
        assert_eq!(run(&mut t, &[RuntimeOffline, Opened]), ["offline", "live"]);
    }

    #[test]
    fn long_polls_go_offline_after_six_failed_polls() {
        let mut t = Tracker::new(false);
        use Event::*;
        assert_eq!(run(&mut t, &[Failed, FellBack]), ["long-poll"]);
        assert_eq!(
            run(&mut t, &[Opened, PollFailed, PollAnswered]),
            Vec::<&str>::new()
        );
        assert_eq!(run(&mut t, &[PollFailed; 5]), Vec::<&str>::new());
        assert_eq!(run(&mut t, &[PollFailed]), ["offline"]);
        assert_eq!(run(&mut t, &[PollAnswered]), ["long-poll"]);
        let mut t = Tracker::new(true);
        assert_eq!(t.status(), Status::LongPoll);
        assert_eq!(
            run(&mut t, &[RuntimeOffline, RuntimeOnline]),
            ["offline", "long-poll"]
        );
    }

    #[test]
    fn closed_is_final() {
        let mut t = Tracker::new(false);
        use Event::*;
        assert_eq!(run(&mut t, &[Opened, Closed]), ["live", "closed"]);
        let after = [
            Opened,
            Failed,
            FellBack,
            RuntimeOffline,
            RuntimeOnline,
            Closed,
        ];
        assert_eq!(run(&mut t, &after), Vec::<&str>::new());
        assert_eq!(t.status(), Status::Closed);
    }
}
