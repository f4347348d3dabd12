//! Which transport a client uses, without I/O: WebSocket (reconnecting with [`Backoff`]) or
//! HTTP long polls, and when it falls back from one to the other. With `transport: "auto"` the
//! client falls back to long polls for good when its first socket cannot be opened; once a
//! socket has opened it stays on sockets, reconnecting however long it takes (a lost socket is
//! an outage, not a network that refuses WebSockets).

use super::Backoff;

/// The transport the client was asked to use (`options.transport`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Preference {
    /// WebSocket, falling back to long polls for good if the first socket cannot be opened.
    Auto,
    /// WebSocket only: reconnect (with backoff) however long it takes.
    WebSocket,
    /// HTTP long polls only.
    LongPoll,
}

/// The transport the client uses now.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// No socket has opened yet (and none has failed for good).
    Connecting,
    /// Everything goes over the WebSocket.
    WebSocket,
    /// Everything goes over HTTP long polls, for the life of the client.
    LongPoll,
}

impl Mode {
    /// The name `RegistryClient.transport` reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Connecting => "connecting",
            Mode::WebSocket => "websocket",
            Mode::LongPoll => "long-poll",
        }
    }
}

/// What to do after a socket closed or failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Next {
    /// Open a new socket after this many ms.
    Retry(u32),
    /// Use long polls from now on (the mode is now [`Mode::LongPoll`]).
    FallBack,
}

/// The transport policy of one client (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct Transport {
    preference: Preference,
    mode: Mode,
    backoff: Backoff,
}

impl Transport {
    /// A client that asked for `preference`.
    pub fn new(preference: Preference) -> Self {
        let mode = match preference {
            Preference::LongPoll => Mode::LongPoll,
            _ => Mode::Connecting,
        };
        Transport {
            preference,
            mode,
            backoff: Backoff::default(),
        }
    }

    /// The transport in use.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the client uses (or tries) sockets: not on long polls.
    pub fn sockets(&self) -> bool {
        self.mode != Mode::LongPoll
    }

    /// A socket opened: the client is on sockets for good, and the backoff starts over.
    pub fn opened(&mut self) {
        self.backoff.opened();
        self.mode = Mode::WebSocket;
    }

    /// A socket closed or failed: retry after the backoff delay, or — `Auto` and no socket has
    /// opened yet — fall back to long polls.
    pub fn failed(&mut self) -> Next {
        if self.mode == Mode::Connecting && self.preference == Preference::Auto {
            self.mode = Mode::LongPoll;
            return Next::FallBack;
        }
        Next::Retry(self.backoff.failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_falls_back_only_before_the_first_socket() {
        let mut t = Transport::new(Preference::Auto);
        assert_eq!(t.mode(), Mode::Connecting);
        assert_eq!(t.failed(), Next::FallBack);
        assert_eq!(t.mode(), Mode::LongPoll);
        assert!(!t.sockets());

        let mut t = Transport::new(Preference::Auto);
        t.opened();
        assert_eq!(t.failed(), Next::Retry(100));
        assert_eq!(t.failed(), Next::Retry(200));
        assert_eq!(t.mode(), Mode::WebSocket);
        t.opened();
        assert_eq!(t.failed(), Next::Retry(100));
    }

    #[test]
    fn websocket_never_falls_back_and_long_poll_never_tries() {
        let mut t = Transport::new(Preference::WebSocket);
        assert_eq!(t.failed(), Next::Retry(100));
        assert_eq!(t.mode(), Mode::Connecting);
        assert_eq!(t.mode().name(), "connecting");
        let t = Transport::new(Preference::LongPoll);
        assert_eq!(t.mode().name(), "long-poll");
        assert!(!t.sockets());
    }
}
