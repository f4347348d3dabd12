//! The subscriptions of one client that its socket must carry: watches (by id, with their
//! [`Cursor`]s) and validators (by id, with their criteria). Without I/O: the host (the web
//! client, or [`super::session::Session`]) sends the texts returned and applies what is
//! decided. Ids are `w1`, `v2`, … and double as the `ref` of the messages that start them.

use std::collections::BTreeMap;

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
    watches: BTreeMap<String, Watch>,
    validators: BTreeMap<String, Vec<String>>,
}

fn with_id(id: &str, msg: &Msg) -> String {
    Outbound {
        reference: Ref::Id(id),
        msg,
    }
    .to_text()
}

impl Subscriptions {
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
        let text = self.open.then(|| Self::watch_text(&id, &w));
        self.watches.insert(id.clone(), w);
        (id, text)
    }

    /// Stops a watch: the message to send, if any.
    pub fn unwatch(&mut self, id: &str) -> Option<String> {
        let known = self.watches.remove(id).is_some();
        let msg = Msg::Unwatch {
            watch: id.to_string(),
        };
        (known && self.open).then(|| msg.to_text())
    }

    /// The resume point of a watch.
    pub fn cursor(&self, id: &str) -> Option<Cursor> {
        self.watches.get(id).map(|w| w.cursor)
    }

    /// Registers a validator: its id, and the message to send now (if a socket is open).
    pub fn validate(&mut self, criteria: Vec<String>) -> (String, Option<String>) {
        let id = self.new_id("v");
        let text = self.open.then(|| Self::validator_text(&id, &criteria));
        self.validators.insert(id.clone(), criteria);
        (id, text)
    }

    /// Unregisters a validator: the message to send, if any.
    pub fn unvalidate(&mut self, id: &str) -> Option<String> {
        let known = self.validators.remove(id).is_some();
        let msg = Msg::Unvalidate {
            validator: id.to_string(),
        };
        (known && self.open).then(|| msg.to_text())
    }

    /// A socket opened: every watch (from its cursor) and validator, to send in order.
    pub fn connected(&mut self) -> Vec<String> {
        self.open = true;
        let watches = (self.watches.iter()).map(|(id, w)| Self::watch_text(id, w));
        let validators = (self.validators.iter()).map(|(id, c)| Self::validator_text(id, c));
        watches.chain(validators).collect()
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
        let w = self.watches.get_mut(id)?;
        (w.cursor.admit(msg) == Admit::Process).then_some(id)
    }

    /// An `ok` (`error: None`) or `error` (its `code`) replying to the subscription `id`; the
    /// message to send, if any (a watch whose `since` the registry does not know, because it
    /// was reset, starts over from a snapshot).
    pub fn replied(&mut self, id: &str, error: Option<Option<&str>>) -> (Replied, Option<String>) {
        if self.validators.contains_key(id) {
            if error.is_some() {
                self.validators.remove(id); // refused: not sent again
            }
            return (Replied::Validator(id.to_string(), error.is_none()), None);
        }
        match error {
            None => (Replied::Nothing, None),
            Some(Some("invalid_since")) => {
                let text = self.watches.get_mut(id).map(|w| {
                    w.cursor.reset();
                    Self::watch_text(id, w)
                });
                (Replied::Nothing, text)
            }
            Some(_) if self.watches.remove(id).is_some() => {
                (Replied::WatchFailed(id.to_string()), None)
            }
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
