//! The one provider long poll of a client (on long polls): `GET /provider?name=…&wait=…` over
//! the names of all its providers; each change request goes to the `requests` stream of its
//! provider, with its id from the `X-Request-Ids` header (so it can be accepted or rejected).

use web_sys::AbortController;

use wasm_bindgen::JsValue;

use crate::convert::{get, get_u64, keys, parse};
use crate::long_poll::{self, Poll};
use crate::shared::SharedRef;
use crate::stream::push;
use crate::transport::{encode, Reply};

/// The provider long poll.
const POLL: Poll = Poll {
    running: |s| &mut s.provider_running,
    next: poll_url,
    on_answer: deliver,
    on_error: |_| {},
};

/// Re-polls at once with the current provider names. The server gives a request to the newest
/// poll for its name, so the abandoned poll cannot take it.
pub fn restart(shared: &SharedRef) {
    let controller = shared.borrow_mut().provider_abort.take();
    crate::shared::abort(controller);
    long_poll::ensure_running(shared, POLL);
}

fn poll_url(shared: &SharedRef) -> Option<(String, AbortController)> {
    let mut s = shared.borrow_mut();
    if s.closed || s.providers.is_empty() {
        return None;
    }
    let mut query: Vec<String> = s
        .providers
        .keys()
        .map(|n| format!("name={}", encode(n)))
        .collect();
    query.push(format!("wait={}", s.wait));
    let controller = AbortController::new().ok()?;
    s.provider_abort = Some(controller.clone());
    Some((
        format!("{}/provider?{}", s.base, query.join("&")),
        controller,
    ))
}

fn deliver(shared: &SharedRef, reply: Reply) {
    let Ok(doc) = parse(&reply.body) else { return };
    let registers = get(&doc, "registers");
    let ids = reply
        .request_ids
        .as_deref()
        .and_then(|text| parse(text).ok())
        .unwrap_or(JsValue::UNDEFINED);
    let targets: Vec<_> = {
        let s = shared.borrow();
        keys(&registers)
            .into_iter()
            .filter_map(|name| s.providers.get(&name).map(|p| (name, p.requests.clone())))
            .collect()
    };
    for (name, stream) in targets {
        let value = get(&get(&registers, &name), "value");
        let item = crate::requests::item(shared, &name, &value, get_u64(&ids, &name));
        push(&stream, item);
    }
}
