//! The subscriptions of one client that its socket must carry: watches (by id, with their
//! [`Cursor`]s) and validators (by id, with their criteria). Without I/O: the host (the web
//! client, or [`super::session::Session`]) sends the texts returned and applies what is
//! decided. Ids are `w1`, `v2`, … and double as the `ref` of the messages that start them.

use super::{watch_of, Admit, Cursor};
use crate::stream::wire::{Outbound, Ref, ServerMsg};

/// A client message with JSON-text payloads.
pub type Msg = crate::stream::wire::ClientMsg<Box<serde_json::value::RawValue>>;

#[derive(Debug, Clone)]
struct Watch {
    names: Option<Vec<String>>,
    criteria: Option<Vec<String>>,
    cursor: Cursor,
}

/// One subscription.
#[derive(Debug, Clone)]
enum Sub {
    Watch(Watch),
    /// A validator's criteria.
    Validator(Vec<String>),
}

/// What a reply to a subscription means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replied {
    /// Nothing for the application (a watch acknowledged, or restarted from a snapshot).
    Nothing,
    /// The watch was refused (other than for an unknown `since`): it is dropped.
    WatchFailed(String),
    /// The validator was accepted (`true`) or refused (`false`, and dropped).
    Validator(String, bool),
}

/// The watches and validators of one client (see the module documentation).
#[derive(Debug, Default)]
pub struct Subscriptions {
    open: bool,
    next_id: u64,
    /// By id, in the order they were made (a client has a handful: a list keeps the wasm
    /// smaller than a second map would).
    subs: Vec<(String, Sub)>,
}

fn with_id(id: &str, msg: &Msg) -> String {
    Outbound {
        reference: Ref::Id(id),
        msg,
    }
    .to_text()
}

impl Subscriptions {
    fn find(&self, id: &str) -> Option<usize> {
        self.subs.iter().position(|(i, _)| i == id)
    }

    fn watch_mut(&mut self, id: &str) -> Option<&mut Watch> {
        match self.subs.iter_mut().find(|(i, _)| i == id) {
            Some((_, Sub::Watch(w))) => Some(w),
            _ => None,
        }
    }

    /// Removes a subscription of this kind (`watch`: a watch, else a validator).
    fn remove(&mut self, id: &str, watch: bool) -> bool {
        let found = self
            .find(id)
            .filter(|&at| matches!(self.subs[at].1, Sub::Watch(_)) == watch);
        if let Some(at) = found {
            self.subs.remove(at);
        }
        found.is_some()
    }

    fn text(id: &str, sub: &Sub) -> String {
        match sub {
            Sub::Watch(w) => Self::watch_text(id, w),
            Sub::Validator(criteria) => Self::validator_text(id, criteria),
        }
    }

    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    fn watch_text(id: &str, w: &Watch) -> String {
        let msg: Msg = w
            .cursor
            .watch_message(id, w.names.clone(), w.criteria.clone());
        with_id(id, &msg)
    }

    fn validator_text(id: &str, criteria: &[String]) -> String {
        let msg = Msg::Validate {
            validator: id.to_string(),
            criteria: criteria.to_vec(),
        };
        with_id(id, &msg)
    }

    /// Watches entries by id (`names`) or by a query (`criteria`): its id, and the message to
    /// send now (when a socket is open; else it goes when one opens).
    pub fn watch(
        &mut self,
        names: Option<Vec<String>>,
        criteria: Option<Vec<String>>,
    ) -> (String, Option<String>) {
        let id = self.new_id("w");
        let w = Watch {
            names,
            criteria,
            cursor: Cursor::default(),
        };
        let sub = Sub::Watch(w);
        let text = self.open.then(|| Self::text(&id, &sub));
        self.subs.push((id.clone(), sub));
        (id, text)
    }

    /// Stops a watch: the message to send, if any.
    pub fn unwatch(&mut self, id: &str) -> Option<String> {
        let known = self.remove(id, true);
        let msg = Msg::Unwatch {
            watch: id.to_string(),
        };
        (known && self.open).then(|| msg.to_text())
    }

    /// The resume point of a watch.
    pub fn cursor(&self, id: &str) -> Option<Cursor> {
        match self.subs.get(self.find(id)?)? {
            (_, Sub::Watch(w)) => Some(w.cursor),
            _ => None,
        }
    }

    /// Registers a validator: its id, and the message to send now (if a socket is open).
    pub fn validate(&mut self, criteria: Vec<String>) -> (String, Option<String>) {
        let id = self.new_id("v");
        let sub = Sub::Validator(criteria);
        let text = self.open.then(|| Self::text(&id, &sub));
        self.subs.push((id.clone(), sub));
        (id, text)
    }

    /// Unregisters a validator: the message to send, if any.
    pub fn unvalidate(&mut self, id: &str) -> Option<String> {
        let known = self.remove(id, false);
        let msg = Msg::Unvalidate {
            validator: id.to_string(),
        };
        (known && self.open).then(|| msg.to_text())
    }

    /// A socket opened: every watch (from its cursor) and validator, to send in order.
    pub fn connected(&mut self) -> Vec<String> {
        self.open = true;
        self.subs
            .iter()
            .map(|(id, sub)| Self::text(id, sub))
            .collect()
    }

    /// The socket closed or failed.
    pub fn disconnected(&mut self) {
        self.open = false;
    }

    /// Whether a socket is open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// A `snapshot`, `change` or `synced` message: the watch it is news for (to apply), if
    /// any.
    pub fn admit<'m>(&mut self, msg: &'m ServerMsg<'_>) -> Option<&'m str> {
        let id = watch_of(msg)?;
        let w = self.watch_mut(id)?;
        (w.cursor.admit(msg) == Admit::Process).then_some(id)
    }

    /// An `ok` (`error: None`) or `error` (its `code`) replying to the subscription `id`; the
    /// message to send, if any (a watch whose `since` the registry does not know, because it
    /// was reset, starts over from a snapshot).
    pub fn replied(&mut self, id: &str, error: Option<Option<&str>>) -> (Replied, Option<String>) {
        let validator = self
            .find(id)
            .map(|at| matches!(self.subs[at].1, Sub::Validator(_)));
        if validator == Some(true) {
            if error.is_some() {
                self.remove(id, false); // refused: not sent again
            }
            return (Replied::Validator(id.to_string(), error.is_none()), None);
        }
        match error {
            None => (Replied::Nothing, None),
            Some(Some("invalid_since")) => {
                let text = self.watch_mut(id).map(|w| {
                    w.cursor.reset();
                    Self::watch_text(id, w)
                });
                (Replied::Nothing, text)
            }
            Some(_) if self.remove(id, true) => (Replied::WatchFailed(id.to_string()), None),
            Some(_) => (Replied::Nothing, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_sent_when_a_socket_opens_and_refusals_drop_them() {
        let mut s = Subscriptions::default();
        let (w, text) = s.watch(None, Some(vec![".kind=x".into()]));
        assert_eq!(text, None, "no socket yet");
        let (v, _) = s.validate(vec![".kind=y".into()]);
        let sent = s.connected();
        assert_eq!(sent.len(), 2);
        assert!(sent[0].contains(r#""ref":"w1""#) && sent[0].contains(r#""type":"watch""#));
        assert!(sent[1].contains(r#""ref":"v2""#) && sent[1].contains(r#""type":"validate""#));
        let change = r#"{"type":"change","watch":"w1","version":4,"actor":"a","ops":[]}"#;
        let msg = ServerMsg::decode(change).unwrap().unwrap();
        assert_eq!(s.admit(&msg), Some("w1"));
        assert_eq!(s.admit(&msg), None, "a version once");
        // An unknown `since`: the watch starts over from a snapshot.
        let (r, text) = s.replied(&w, Some(Some("invalid_since")));
        assert_eq!(r, Replied::Nothing);
        assert!(!text.unwrap().contains("since"));
        assert_eq!(
            s.replied(&v, Some(Some("invalid_criterion"))).0,
            Replied::Validator(v.clone(), false)
        );
        assert_eq!(s.replied(&w, Some(None)).0, Replied::WatchFailed(w.clone()));
        s.disconnected();
        assert!(
            s.connected().is_empty(),
            "refused subscriptions are not sent again"
        );
        assert_eq!(s.unwatch(&w), None);
    }
}
