//! What the host must do after a call into the core, as one value (like raft-rs's `Ready`):
//! every public [`crate::Service`] call that can change something returns a [`Step`] whose
//! [`Effects`] the host carries out, in any order it likes — each field is independent.

use crate::duration::Millis;
use crate::stream::{ConnId, Outgoing};
use crate::waiters::WaiterId;

/// Everything a call asks of the host.
#[must_use = "the host must carry out the effects: wake held requests, send messages, arm the alarm"]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// Held requests to finish now with [`crate::Service::resume`] (woken by a change, or a
    /// transaction whose validators all decided).
    pub wake: Vec<WaiterId>,
    /// Stream messages to send, in this order.
    pub send: Vec<Outgoing>,
    /// Stream connections to close: their subscriptions could not be saved, so they must
    /// reconnect and resume (nothing is lost: watches resume from their last version).
    pub close: Vec<ConnId>,
    /// When the host's alarm must fire next (`None`: nothing will expire).
    pub alarm: Option<Millis>,
    /// Versions the call wrote, for the host's log ([`crate::logline`]).
    pub written: Vec<crate::logline::VersionWritten>,
}

impl Effects {
    /// Whether there is nothing to do but (maybe) keep the alarm.
    pub fn is_idle(&self) -> bool {
        self.wake.is_empty()
            && self.send.is_empty()
            && self.close.is_empty()
            && self.written.is_empty()
    }
}

/// The result of a call and what the host must do about it.
#[must_use = "the host must carry out the effects"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<T> {
    /// What the call returns.
    pub value: T,
    /// What the host must do.
    pub effects: Effects,
}
