//! Watches over the WebSocket: `consume(name)` (one watch per consumed name, shared by its
//! streams), `consumeAll()` (one `.kind=register` watch shared by its streams) and
//! `watch(criteria)` (one per stream). Each watch keeps the entries it matches and the version
//! it last processed: a reopened socket re-sends it with `since` = that version, and a `change`
//! at or below it is ignored, so no change is missed or delivered twice.
//!
//! Which transport serves a subscription is decided here (`*_added` / `*_removed`): the
//! WebSocket while it is used or being opened, the long polls otherwise.

use std::collections::BTreeMap;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::consumer_poll::{self, register_update};
use crate::convert::json_string;
use crate::convert::{get, get_u64, keys, object, stringify};
use crate::query_poll;
use crate::shared::{Mode, Shared, SharedRef};
use crate::stream::{self, push, Stream};
use crate::ws::{self, with_ref};

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
    /// The version of the last `snapshot`/`change`/`synced` processed.
    pub version: Option<u64>,
    /// The matching entries by id, as last received.
    pub entries: BTreeMap<String, JsValue>,
}

impl Watch {
    /// The stream and criteria of a query watch (to serve it with polls instead).
    pub fn into_query(self) -> Option<(Stream, Vec<String>)> {
        match self.target {
            Target::Query(stream) => Some((stream, self.criteria)),
            _ => None,
        }
    }

    /// The `watch` message, with the watch id as `ref`.
    fn message(&self, id: &str) -> String {
        let msg = object(&[("type", "watch".into()), ("watch", id.into())]);
        let list = |items: &[String]| -> JsValue {
            items
                .iter()
                .map(|c| JsValue::from_str(c))
                .collect::<Array>()
                .into()
        };
        match &self.target {
            Target::Name(name) => {
                crate::convert::set(&msg, "names", &list(std::slice::from_ref(name)))
            }
            _ => crate::convert::set(&msg, "where", &list(&self.criteria)),
        }
        if let Some(v) = self.version {
            crate::convert::set(&msg, "since", &JsValue::from_f64(v as f64));
        }
        with_ref(&stringify(&msg).unwrap_or_default(), &json_string(id))
    }
}

/// Registers a watch (sent now if the socket is open, else when it opens); returns its id.
fn add(shared: &SharedRef, target: Target, criteria: Vec<String>) -> String {
    let (id, text) = {
        let mut s = shared.borrow_mut();
        let id = s.new_id("w");
        let watch = Watch {
            target,
            criteria,
            version: None,
            entries: BTreeMap::new(),
        };
        let text = s.ws.open.then(|| watch.message(&id));
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
    if let Some(text) = text {
        ws::send(shared, &text);
    }
    ws::ensure(shared);
    id
}

/// Forgets a watch and tells the registry (if the socket is open).
fn remove(shared: &SharedRef, id: &str) {
    if shared.borrow_mut().watches.remove(id).is_some() {
        let msg = object(&[("type", "unwatch".into()), ("watch", id.into())]);
        ws::send(shared, &stringify(&msg).unwrap_or_default());
    }
}

fn long_polls(shared: &SharedRef) -> bool {
    shared.borrow().mode == Mode::LongPoll
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

/// A `consumeAll()` stream was added (already in `shared.all`).
pub fn all_added(shared: &SharedRef, stream: &Stream) {
    if long_polls(shared) {
        let first = {
            let mut s = shared.borrow_mut();
            s.last_all = None;
            s.all.len() == 1
        };
        consumer_poll::restart(shared, first);
        return;
    }
    let current = {
        let s = shared.borrow();
        s.all_watch
            .as_ref()
            .and_then(|id| s.watches.get(id))
            .map(|w| w.version.map(|v| all_item(w, v).0))
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
        s.last_all = None;
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

/// Every watch as a message with `since`, for a socket that just opened.
pub fn resume_messages(s: &Shared) -> Vec<String> {
    s.watches.iter().map(|(id, w)| w.message(id)).collect()
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

/// `{registers, version}` for `consumeAll()` streams, and its JSON text.
fn all_item(w: &Watch, version: u64) -> (JsValue, String) {
    let registers = Object::new();
    for (id, entry) in &w.entries {
        if let Some(reg) = register_of(entry) {
            crate::convert::set(&registers, id, &reg);
        }
    }
    let text = stringify(&registers).unwrap_or_default();
    let item = object(&[
        ("registers", registers.into()),
        ("version", JsValue::from_f64(version as f64)),
    ]);
    (item.into(), text)
}

/// `snapshot`, `change` and `synced` messages.
pub fn on_message(shared: &SharedRef, msg: &JsValue) {
    let (Some(id), Some(version)) = (get(msg, "watch").as_string(), get_u64(msg, "version")) else {
        return;
    };
    let kind = get(msg, "type").as_string().unwrap_or_default();
    let deliveries = {
        let mut s = shared.borrow_mut();
        let Some(w) = s.watches.get_mut(&id) else {
            return;
        };
        let ops = match kind.as_str() {
            "snapshot" => {
                // Inserted one by one: collecting into a map would pull a sort into the wasm.
                w.entries.clear();
                for e in Array::from(&get(msg, "entries")).iter() {
                    if let Some(id) = get(&e, "id").as_string() {
                        w.entries.insert(id, e);
                    }
                }
                None
            }
            "change" => {
                if w.version.is_some_and(|last| version <= last) {
                    return; // already processed (a resumed backlog overlaps)
                }
                let ops = get(msg, "ops");
                for op in Array::from(&ops).iter() {
                    let (Some(eid), entry) = (get(&op, "id").as_string(), get(&op, "entry")) else {
                        continue;
                    };
                    if entry.is_null() || entry.is_undefined() {
                        w.entries.remove(&eid);
                    } else {
                        w.entries.insert(eid, entry);
                    }
                }
                Some(ops)
            }
            _ => {
                w.version = Some(w.version.map_or(version, |v| v.max(version)));
                return;
            }
        };
        w.version = Some(version);
        deliveries(&mut s, &id, version, ops)
    };
    for (stream, item) in deliveries {
        push(&stream, item);
    }
}

/// What one processed version delivers to the watch's streams.
fn deliveries(
    s: &mut Shared,
    id: &str,
    version: u64,
    ops: Option<JsValue>,
) -> Vec<(Stream, JsValue)> {
    let Shared {
        watches,
        last,
        consumers,
        all,
        last_all,
        ..
    } = s;
    let w = &watches[id];
    let version_js = JsValue::from_f64(version as f64);
    let fan_out = |streams: Option<&Vec<Stream>>, item: JsValue| -> Vec<(Stream, JsValue)> {
        streams
            .into_iter()
            .flatten()
            .map(|st| (st.clone(), item.clone()))
            .collect()
    };
    match &w.target {
        Target::Name(name) => {
            let reg = w.entries.get(name).and_then(register_of);
            let text = reg.as_ref().and_then(stringify);
            let known = last.get(name).cloned();
            if known.as_ref() == Some(&text) {
                return Vec::new(); // e.g. a TTL-only version: not a change for consumers
            }
            // Absent and never seen: nothing to report yet.
            let report = text.is_some() || matches!(known, Some(Some(_)));
            last.insert(name.clone(), text);
            if !report {
                return Vec::new();
            }
            let item = register_update(name, &reg.unwrap_or(JsValue::UNDEFINED), &version_js);
            fan_out(consumers.get(name), item)
        }
        Target::All => {
            let (item, text) = all_item(w, version);
            if last_all.as_ref() == Some(&text) {
                return Vec::new();
            }
            *last_all = Some(text);
            fan_out(Some(all), item)
        }
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

/// An `error` reply to a watch: a `since` the registry does not know (it was reset) restarts
/// the watch from a snapshot; any other error ends the streams it feeds with that error.
pub fn on_error(shared: &SharedRef, id: &str, err: JsValue) {
    if get(&err, "code").as_string().as_deref() == Some("invalid_since") {
        let text = {
            let mut s = shared.borrow_mut();
            let Some(w) = s.watches.get_mut(id) else {
                return;
            };
            w.version = None;
            w.message(id)
        };
        ws::send(shared, &text);
        return;
    }
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
