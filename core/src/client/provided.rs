//! The registers one client publishes, without I/O: the value each provider publishes now, what
//! a socket that opens is sent again (one `provide` with every register the registry accepted
//! once), and the value an applied verdict adopts (put back if the registry refuses the verdict).
//! The host (the web client, or [`super::session::Session`]) sends the messages and HTTP bodies
//! built here and reports what the registry answered.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::subscriptions::Msg;
use crate::stream::wire::{raw, Publish};

/// One published register.
#[derive(Debug, Clone)]
struct Entry {
    value: Box<RawValue>,
    metadata: Option<Box<RawValue>>,
    ttl: Option<String>,
    /// The registry accepted it once: every socket that opens publishes it again.
    confirmed: bool,
}

impl Entry {
    /// `{value, metadata?, ttl?}`.
    fn register(&self) -> Box<RawValue> {
        raw(&Publish {
            value: &self.value,
            metadata: self.metadata.as_deref(),
            ttl: self.ttl.clone(),
        })
    }
}

/// The registers a client publishes, by name (a client has a handful: a list keeps the wasm
/// smaller than a map would).
#[derive(Debug, Default)]
pub struct Published {
    list: Vec<(String, Entry)>,
}

impl Published {
    fn entry(&mut self, name: &str) -> Option<&mut Entry> {
        self.list
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }

    /// Starts publishing `name` (value and metadata as JSON text, TTL as a Go duration), or
    /// replaces what it publishes. Not re-sent on reconnects until [`Published::confirm`].
    pub fn set(
        &mut self,
        name: &str,
        value: Box<RawValue>,
        metadata: Option<Box<RawValue>>,
        ttl: Option<String>,
    ) {
        let confirmed = self.entry(name).is_some_and(|e| e.confirmed);
        self.remove(name);
        let entry = Entry {
            value,
            metadata,
            ttl,
            confirmed,
        };
        self.list.push((name.to_string(), entry));
    }

    /// Replaces the value `name` publishes; false when it is not published.
    pub fn set_value(&mut self, name: &str, value: Box<RawValue>) -> bool {
        self.entry(name).map(|e| e.value = value).is_some()
    }

    /// The registry accepted `name`: every socket that opens publishes it again.
    pub fn confirm(&mut self, name: &str) {
        if let Some(e) = self.entry(name) {
            e.confirmed = true;
        }
    }

    /// Stops publishing `name`; true when it was published.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.list.len();
        self.list.retain(|(n, _)| n != name);
        self.list.len() != before
    }

    /// `{name: {value, metadata?, ttl?}}` for `name` alone: the `registers` of a `provide`
    /// message or of a `PUT /provider` body (empty when `name` is not published).
    pub fn registers(&self, name: &str) -> BTreeMap<String, Box<RawValue>> {
        self.collect(|n, _| n == name)
    }

    /// The registers `keep` selects, by name (inserted one by one: `collect` into a map would
    /// add a sort and a bulk build to the wasm).
    fn collect(&self, keep: impl Fn(&str, &Entry) -> bool) -> BTreeMap<String, Box<RawValue>> {
        let mut registers = BTreeMap::new();
        for (n, e) in self.list.iter().filter(|(n, e)| keep(n, e)) {
            registers.insert(n.clone(), e.register());
        }
        registers
    }

    /// The message a socket that opens is sent: one `provide` with every confirmed register.
    pub fn resume(&self) -> Option<String> {
        let registers = self.collect(|_, e| e.confirmed);
        (!registers.is_empty()).then(|| Msg::Provide { registers }.to_text())
    }

    /// An applied verdict (`accept(apply)`): the registry sets `name` to `value`, so that is
    /// what is published from now on. Returns the value it replaced (for
    /// [`Published::restore`]); `None` when `name` is not published.
    pub fn adopt(&mut self, name: &str, value: Box<RawValue>) -> Option<Box<RawValue>> {
        let e = self.entry(name)?;
        Some(std::mem::replace(&mut e.value, value))
    }

    /// The registry refused an applied verdict: puts `before` back, unless the value changed
    /// since it adopted `adopted`.
    pub fn restore(&mut self, name: &str, before: Box<RawValue>, adopted: &RawValue) {
        if let Some(e) = self.entry(name) {
            if e.value.get() == adopted.get() {
                e.value = before;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn only_confirmed_registers_are_sent_again() {
        let mut p = Published::default();
        p.set("a", json("1"), None, Some("10s".into()));
        p.set("b", json("2"), Some(json(r#"{"k":"v"}"#)), None);
        assert_eq!(p.resume(), None);
        p.confirm("b");
        let text = p.resume().unwrap();
        assert!(
            text.contains(r#""b":{"value":2,"metadata":{"k":"v"}}"#),
            "{text}"
        );
        assert!(!text.contains(r#""a""#), "{text}");
        // A new value keeps the confirmation.
        p.set("b", json("3"), None, None);
        assert!(p.resume().unwrap().contains(r#""b":{"value":3}"#));
        assert!(p.remove("b"));
        assert_eq!(p.resume(), None);
        assert!(!p.remove("b"));
    }

    #[test]
    fn an_adopted_value_is_put_back_unless_it_changed() {
        let mut p = Published::default();
        p.set("a", json("1"), None, None);
        let before = p.adopt("a", json("2")).unwrap();
        assert_eq!(p.registers("a")["a"].get(), r#"{"value":2}"#);
        p.restore("a", before.clone(), &json("2"));
        assert_eq!(p.registers("a")["a"].get(), r#"{"value":1}"#);
        let before = p.adopt("a", json("2")).unwrap();
        assert!(p.set_value("a", json("5")));
        p.restore("a", before, &json("2"));
        assert_eq!(p.registers("a")["a"].get(), r#"{"value":5}"#);
        assert!(p.adopt("x", json("1")).is_none());
    }
}
