//! The one consumer long poll of a client on long polls: `GET /consumer?name=…&wait=…&since=<version>` over
//! the union of consumed names (or all registers while a `consumeAll()` stream is open), with
//! changes dispatched to every stream. `since` makes sure no change between two polls is lost.

use wasm_bindgen::JsValue;
use web_sys::AbortController;

use crate::convert::{get, parse, stringify, version_js};
use crate::long_poll::{self, Poll};
use crate::register_stream::name_deliveries;
use crate::registry_stream::snapshot;
use crate::shared::{Shared, SharedRef};
use crate::stream::{fan_out, push, Stream};
use crate::transport::encode;

/// The consumer long poll.
const POLL: Poll = Poll {
    running: |s| &mut s.consumer_running,
    next: poll_url,
    on_answer: |shared, reply| {
        if let Ok(doc) = parse(&reply.body) {
            dispatch(shared, &get(&doc, "registers"), reply.version);
        }
    },
    // After an error, fetch a fresh snapshot rather than wait on `since`.
    on_error: |shared| shared.borrow_mut().snapshot_needed = true,
};

/// Makes the loop re-poll now with the current names.
pub fn restart(shared: &SharedRef, snapshot: bool) {
    let controller = {
        let mut s = shared.borrow_mut();
        s.snapshot_needed |= snapshot;
        s.consumer_abort.take()
    };
    crate::shared::abort(controller);
    long_poll::ensure_running(shared, POLL);
}

fn poll_url(shared: &SharedRef) -> Option<(String, AbortController)> {
    let mut s = shared.borrow_mut();
    if s.closed || (s.consumers.is_empty() && s.all.is_empty()) {
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

/// Compares the new state with the last seen and delivers what changed.
fn dispatch(shared: &SharedRef, registers: &JsValue, version: Option<u64>) {
    let version_js = version_js(version);
    let mut deliveries: Vec<(Stream, JsValue)> = Vec::new();
    {
        let mut s = shared.borrow_mut();
        if version.is_some() {
            s.since = version;
        }
        let Shared {
            last,
            consumers,
            all,
            last_all,
            ..
        } = &mut *s;
        // `registers` is fresh from the answer: nobody holds it yet.
        for (name, streams) in consumers.iter() {
            let reg = get(registers, name);
            let text = if reg.is_undefined() {
                None
            } else {
                stringify(&reg)
            };
            deliveries.extend(name_deliveries(last, streams, name, text, &version_js));
        }
        if !all.is_empty() {
            let text = stringify(registers);
            if text != *last_all {
                *last_all = text;
                deliveries.extend(fan_out(all, &snapshot(registers.clone(), version)));
            }
        }
    }
    for (stream, item) in deliveries {
        push(&stream, item);
    }
}
