//! The one consumer long poll of a client on long polls: `GET /consumer?name=…&wait=…&since=<version>` over
//! the union of consumed names (or all registers while a `consumeAll()` stream is open), with
//! changes dispatched to every stream. `since` makes sure no change between two polls is lost.

use wasm_bindgen::JsValue;
use web_sys::AbortController;

use crate::convert::{get, object, parse, stringify};
use crate::shared::{Mode, SharedRef};
use crate::stream::{push, Stream};
use crate::transport::encode;

/// Starts the loop if it is not running.
pub fn ensure_running(shared: &SharedRef) {
    {
        let mut s = shared.borrow_mut();
        // Only on long polls: over the WebSocket, watches/provides do this job.
        if s.consumer_running || s.closed || s.mode != Mode::LongPoll {
            return;
        }
        s.consumer_running = true;
    }
    wasm_bindgen_futures::spawn_local(run(shared.clone()));
}

/// Makes the loop re-poll now with the current names.
pub fn restart(shared: &SharedRef, snapshot: bool) {
    let controller = {
        let mut s = shared.borrow_mut();
        s.snapshot_needed |= snapshot;
        s.consumer_abort.take()
    };
    crate::shared::abort(controller);
    ensure_running(shared);
}

fn poll_url(shared: &SharedRef) -> Option<(String, AbortController)> {
    let mut s = shared.borrow_mut();
    if s.closed || (s.consumers.is_empty() && s.all.is_empty()) {
        s.consumer_running = false;
        return None;
    }
    let mut query: Vec<String> = Vec::new();
    if s.all.is_empty() {
        query.extend(s.consumers.keys().map(|n| format!("name={}", encode(n))));
    }
    if std::mem::take(&mut s.snapshot_needed) {
        // Answer at once: some names have no known state yet.
    } else {
        query.push(format!("wait={}", s.wait));
        if let Some(v) = s.since {
            query.push(format!("since={v}"));
        }
    }
    let controller = AbortController::new().ok()?;
    s.consumer_abort = Some(controller.clone());
    Some((
        format!("{}/consumer?{}", s.base, query.join("&")),
        controller,
    ))
}

fn run(shared: SharedRef) -> impl std::future::Future<Output = ()> {
    crate::long_poll::run(
        shared,
        crate::long_poll::Poll {
            next: poll_url,
            on_answer: |shared, reply| {
                if let Ok(doc) = parse(&reply.body) {
                    dispatch(shared, &get(&doc, "registers"), reply.version);
                }
            },
            // After an error, fetch a fresh snapshot rather than wait on `since`.
            on_error: |shared| shared.borrow_mut().snapshot_needed = true,
            on_stop: |shared| shared.borrow_mut().consumer_running = false,
        },
    )
}

/// Compares the new state with the last seen and delivers what changed.
fn dispatch(shared: &SharedRef, registers: &JsValue, version: Option<u64>) {
    let version_js = version.map_or(JsValue::NULL, |v| JsValue::from_f64(v as f64));
    let mut deliveries: Vec<(Stream, JsValue)> = Vec::new();
    {
        let mut s = shared.borrow_mut();
        if version.is_some() {
            s.since = version;
        }
        let names: Vec<String> = s.consumers.keys().cloned().collect();
        for name in names {
            let reg = get(registers, &name);
            let text = if reg.is_undefined() {
                None
            } else {
                stringify(&reg)
            };
            let known = s.last.get(&name).cloned();
            if known.as_ref() == Some(&text) {
                continue;
            }
            // Absent and never seen: nothing to report yet.
            let report = text.is_some() || matches!(known, Some(Some(_)));
            s.last.insert(name.clone(), text.clone());
            if !report {
                continue;
            }
            let item = register_update(&name, &reg, &version_js);
            for stream in &s.consumers[&name] {
                deliveries.push((stream.clone(), item.clone()));
            }
        }
        if !s.all.is_empty() {
            let text = stringify(registers);
            if text != s.last_all {
                s.last_all = text;
                let item: JsValue = object(&[
                    ("registers", registers.clone()),
                    ("version", version_js.clone()),
                ])
                .into();
                for stream in &s.all {
                    deliveries.push((stream.clone(), item.clone()));
                }
            }
        }
    }
    for (stream, item) in deliveries {
        push(&stream, item);
    }
}

/// `{name, value, metadata, version, removed}` for one register (`reg` undefined = removed).
pub fn register_update(name: &str, reg: &JsValue, version: &JsValue) -> JsValue {
    let removed = reg.is_undefined();
    let metadata = get(reg, "metadata");
    let metadata = if metadata.is_undefined() {
        js_sys::Object::new().into()
    } else {
        metadata
    };
    object(&[
        ("name", JsValue::from_str(name)),
        (
            "value",
            if removed {
                JsValue::UNDEFINED
            } else {
                get(reg, "value")
            },
        ),
        ("metadata", metadata),
        ("version", version.clone()),
        ("removed", JsValue::from_bool(removed)),
    ])
    .into()
}

/// The last state of a name as an update item, if it is known and present.
pub fn last_update(shared: &SharedRef, name: &str) -> Option<JsValue> {
    let s = shared.borrow();
    let text = s.last.get(name)?.as_ref()?;
    let reg = parse(text).ok()?;
    let watched = s.name_watch.get(name).and_then(|id| s.watches.get(id));
    let version = watched
        .map_or(s.since, |w| w.version)
        .map_or(JsValue::NULL, |v| JsValue::from_f64(v as f64));
    Some(register_update(name, &reg, &version))
}
