//! Watches over the WebSocket: `consume(name)` (one watch per consumed name, shared by its
//! streams), `consumeAll()` (one `.kind=register` watch shared by its streams) and
//! `watch(criteria)` (one per stream). `registry_core::client::subscriptions` keeps each
//! watch's id and cursor, re-sends it with `since` on a reopened socket and says which messages
//! are news; this module keeps what each watch matches, as JS, and feeds its streams.
//!
//! Name and `consumeAll()` watches keep each register as JSON text, taken when its entry arrives
//! (before anybody holds it): a change is decided by comparing texts, and items are built from
//! them, so nothing a user holds is ever read again.
//!
//! Which transport serves a subscription is decided here (`*_added` / `*_removed`): the
//! WebSocket while it is used or being opened, the long polls otherwise.

use std::collections::BTreeMap;

use js_sys::{Array, Object, JSON};
use registry_core::client::watch_of;
use registry_core::stream::wire::ServerMsg;
use wasm_bindgen::prelude::*;

use crate::consumer_poll;
use crate::convert::{get, json_string, keys, object, parse, raw_js};
use crate::query_poll;
use crate::register_stream::name_deliveries;
use crate::registry_stream::snapshot;
use crate::shared::{Shared, SharedRef};
use crate::stream::{self, fan_out, push, Stream};
use crate::ws;

/// What a watch feeds.
pub enum Target {
    /// The streams of `consume(name)`.
    Name(String),
    /// The streams of `consumeAll()`.
    All,
    /// One `watch(criteria)` stream.
    Query(Stream),
}

/// One watch.
pub struct Watch {
    /// What it feeds.
    pub target: Target,
    /// `where` criteria (none for a name watch).
    pub criteria: Vec<String>,
    /// Query watches: the matching entries by id, as last received (handed to the stream).
    pub entries: BTreeMap<String, JsValue>,
    /// Name and `consumeAll()` watches: each matching register (`{metadata?, value}`) by id,
    /// as JSON text in a JS string (compared with `===`; a map of Rust strings would cost the
    /// wasm a few kB more).
    pub registers: BTreeMap<String, JsValue>,
}

impl Watch {
    /// The stream and criteria of a query watch (to serve it with polls instead).
    pub fn into_query(self) -> Option<(Stream, Vec<String>)> {
        match self.target {
            Target::Query(stream) => Some((stream, self.criteria)),
            _ => None,
        }
    }

    /// Takes in an entry as it arrived in a message (`null`: gone); returns whether what the
    /// watch's streams see changed.
    fn keep(&mut self, id: String, entry: JsValue) -> bool {
        if let Target::Query(_) = self.target {
            if entry.is_null() || entry.is_undefined() {
                self.entries.remove(&id);
            } else {
                self.entries.insert(id, entry);
            }
            return true;
        }
        // Fresh from the message: nobody holds it yet.
        let text = register_of(&entry)
            .and_then(|reg| JSON::stringify(&reg).ok())
            .map(JsValue::from);
        if self.registers.get(&id) == text.as_ref() {
            return false;
        }
        match text {
            Some(text) => self.registers.insert(id, text),
            None => self.registers.remove(&id),
        };
        true
    }

    /// The `consumeAll()` item of this watch at `version`, built from the register texts.
    fn all_item(&self, version: u64) -> JsValue {
        let mut json = String::from("{");
        for (i, (id, reg)) in self.registers.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&json_string(id));
            json.push(':');
            json.push_str(&reg.as_string().unwrap_or_default());
        }
        json.push('}');
        let registers = parse(&json).unwrap_or_else(|_| Object::new().into());
        snapshot(registers, Some(version))
    }
}

/// Registers a watch (sent now if the socket is open, else when it opens); returns its id.
fn add(shared: &SharedRef, target: Target, criteria: Vec<String>) -> String {
    let (id, texts) = {
        let mut s = shared.borrow_mut();
        let (names, where_) = match &target {
            Target::Name(name) => (Some(vec![name.clone()]), None),
            _ => (None, Some(criteria.clone())),
        };
        let (id, text) = s.subs.watch(names, where_);
        let watch = Watch {
            target,
            criteria,
            entries: BTreeMap::new(),
            registers: BTreeMap::new(),
        };
        match &watch.target {
            Target::Name(name) => {
                s.name_watch.insert(name.clone(), id.clone());
            }
            Target::All => s.all_watch = Some(id.clone()),
            Target::Query(_) => {}
        }
        s.watches.insert(id.clone(), watch);
        (id, text)
    };
    if let Some(text) = texts {
        ws::send_text(shared, &text);
    }
    ws::ensure(shared);
    id
}

/// Forgets a watch and tells the registry (if the socket is open).
fn remove(shared: &SharedRef, id: &str) {
    let texts = {
        let mut s = shared.borrow_mut();
        s.watches.remove(id);
        s.subs.unwatch(id)
    };
    if let Some(text) = texts {
        ws::send_text(shared, &text);
    }
}

fn long_polls(shared: &SharedRef) -> bool {
    !shared.borrow().transport.sockets()
}

/// A name got its first consumer stream.
pub fn name_added(shared: &SharedRef, name: &str) {
    if long_polls(shared) {
        consumer_poll::restart(shared, true);
    } else {
        add(shared, Target::Name(name.to_string()), Vec::new());
    }
}

/// A name lost its last consumer stream.
pub fn name_removed(shared: &SharedRef, name: &str) {
    if long_polls(shared) {
        consumer_poll::restart(shared, false);
        return;
    }
    let id = shared.borrow_mut().name_watch.remove(name);
    if let Some(id) = id {
        remove(shared, &id);
    }
}

/// A `consumeAll()` stream was added (already in `shared.all`): the first starts the
/// subscription (a snapshot follows for every stream); a later one gets the current snapshot.
pub fn all_added(shared: &SharedRef, stream: &Stream) {
    if long_polls(shared) {
        let current = {
            let mut s = shared.borrow_mut();
            if s.all.len() == 1 {
                s.last_all = None;
                None
            } else {
                Some(s.last_all.clone().map(|text| (text, s.since)))
            }
        };
        match current {
            // Re-poll at once for every register (the poll held only consumed names).
            None => consumer_poll::restart(shared, true),
            Some(Some((text, since))) => {
                if let Ok(registers) = parse(&text) {
                    push(stream, snapshot(registers, since));
                }
            }
            Some(None) => {} // the first snapshot is on its way
        }
        return;
    }
    let current = {
        let s = shared.borrow();
        let id = s.all_watch.as_ref();
        id.and_then(|id| s.watches.get(id)).map(|w| {
            let version = id.and_then(|id| s.subs.cursor(id)?.version());
            version.map(|v| w.all_item(v))
        })
    };
    match current {
        None => {
            add(shared, Target::All, vec![".kind=register".into()]);
        }
        Some(Some(item)) => push(stream, item),
        Some(None) => {} // the snapshot is on its way
    }
}

/// A `consumeAll()` stream ended (already removed from `shared.all`).
pub fn all_removed(shared: &SharedRef) {
    if long_polls(shared) {
        consumer_poll::restart(shared, false);
        return;
    }
    let id = {
        let mut s = shared.borrow_mut();
        if !s.all.is_empty() {
            return;
        }
        s.all_watch.take()
    };
    if let Some(id) = id {
        remove(shared, &id);
    }
}

/// A `watch(criteria)` stream was created (already in `shared.queries`): a watch, or a poll
/// loop on long polls.
pub fn query_added(shared: &SharedRef, stream: &Stream, criteria: Vec<String>) {
    if long_polls(shared) {
        query_poll::start(shared, stream.clone(), criteria);
    } else {
        add(shared, Target::Query(stream.clone()), criteria);
    }
}

/// A `watch(criteria)` stream ended: forget it and its watch (a poll loop ends by itself).
pub fn query_removed(shared: &SharedRef, stream: &Stream) {
    let id = {
        let mut s = shared.borrow_mut();
        s.queries.retain(|q| !std::rc::Rc::ptr_eq(q, stream));
        s.watches
            .iter()
            .find(|(_, w)| matches!(&w.target, Target::Query(q) if std::rc::Rc::ptr_eq(q, stream)))
            .map(|(id, _)| id.clone())
    };
    if let Some(id) = id {
        remove(shared, &id);
    }
}

/// A register (`{metadata?, value}`, reg's shape) from an entry; `None` unless it is one.
fn register_of(entry: &JsValue) -> Option<JsValue> {
    if get(entry, "kind").as_string().as_deref() != Some("register") {
        return None;
    }
    let meta = get(entry, "meta");
    let reg = Object::new();
    if !keys(&meta).is_empty() {
        crate::convert::set(&reg, "metadata", &meta);
    }
    crate::convert::set(&reg, "value", &get(entry, "data"));
    Some(reg.into())
}

/// `snapshot`, `change` and `synced` messages.
pub fn on_message(shared: &SharedRef, msg: &ServerMsg) {
    let Some(id) = watch_of(msg) else {
        return;
    };
    let deliveries = {
        let mut s = shared.borrow_mut();
        // The first snapshot (or the one after a reset) is news whatever it holds.
        let fresh = s.subs.cursor(id).is_none_or(|c| c.is_fresh());
        if s.subs.admit(msg).is_none() {
            return; // `synced`, or a change already processed (a resumed backlog overlaps)
        }
        let Some(w) = s.watches.get_mut(id) else {
            return;
        };
        let (version, changed, ops) = match msg {
            ServerMsg::Snapshot(m) => {
                let before = std::mem::take(&mut w.registers);
                w.entries.clear();
                // Taken one by one: collecting into a map would pull a sort into the wasm.
                let entries = raw_js(m.entries);
                for e in Array::from(&entries).iter() {
                    if let Some(id) = get(&e, "id").as_string() {
                        w.keep(id, e);
                    }
                }
                (m.version, fresh || w.registers != before, None)
            }
            ServerMsg::Change(m) => {
                let ops = raw_js(m.ops);
                let mut changed = false;
                for op in Array::from(&ops).iter() {
                    if let Some(eid) = get(&op, "id").as_string() {
                        changed |= w.keep(eid, get(&op, "entry"));
                    }
                }
                (m.version, changed, Some(ops))
            }
            _ => return,
        };
        deliveries(&mut s, id, version, changed, ops)
    };
    for (stream, item) in deliveries {
        push(&stream, item);
    }
}

/// What one processed version delivers to the watch's streams (`changed`: whether what they
/// see changed).
fn deliveries(
    s: &mut Shared,
    id: &str,
    version: u64,
    changed: bool,
    ops: Option<JsValue>,
) -> Vec<(Stream, JsValue)> {
    let Shared {
        watches,
        last,
        consumers,
        all,
        ..
    } = s;
    let w = &watches[id];
    let version_js = JsValue::from_f64(version as f64);
    match &w.target {
        Target::Name(name) => {
            let streams = consumers.get(name).map_or(&[][..], |v| v);
            let text = w.registers.get(name).and_then(JsValue::as_string);
            name_deliveries(last, streams, name, text, &version_js)
        }
        Target::All if changed => fan_out(all, &w.all_item(version)),
        Target::All => Vec::new(),
        Target::Query(stream) => {
            let entries: Array = w.entries.values().collect();
            let item = object(&[("version", version_js), ("entries", entries.into())]);
            if let Some(ops) = ops {
                crate::convert::set(&item, "ops", &ops);
            }
            vec![(stream.clone(), item.into())]
        }
    }
}

/// A watch the registry refused (the subscriptions already restarted those resumed from a `since`
/// it did not know): the streams it feeds end with the error.
pub fn on_error(shared: &SharedRef, id: &str, err: JsValue) {
    let streams: Vec<Stream> = {
        let mut s = shared.borrow_mut();
        let Some(w) = s.watches.remove(id) else {
            return;
        };
        match w.target {
            Target::Name(name) => {
                s.name_watch.remove(&name);
                s.consumers.get(&name).cloned().unwrap_or_default()
            }
            Target::All => {
                s.all_watch = None;
                s.all.clone()
            }
            Target::Query(stream) => vec![stream],
        }
    };
    for stream in streams {
        stream::fail(&stream, err.clone());
    }
}
