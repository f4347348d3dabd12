//! The one provider long poll of a client: `GET /provider?name=…&wait=…` over the names of all
//! its providers; each change request goes to the `requests` stream of its provider.

use web_sys::AbortController;

use crate::convert::{get, keys, object, parse};
use crate::shared::SharedRef;
use crate::stream::push;
use crate::transport::{encode, Reply};

/// Starts the loop if it is not running.
pub fn ensure_running(shared: &SharedRef) {
    {
        let mut s = shared.borrow_mut();
        if s.provider_running || s.closed {
            return;
        }
        s.provider_running = true;
    }
    wasm_bindgen_futures::spawn_local(run(shared.clone()));
}

/// Re-polls at once with the current provider names. The server gives a request to the newest
/// poll for its name, so the abandoned poll cannot take it.
pub fn restart(shared: &SharedRef) {
    let controller = shared.borrow_mut().provider_abort.take();
    crate::shared::abort(controller);
    ensure_running(shared);
}

fn poll_url(shared: &SharedRef) -> Option<(String, AbortController)> {
    let mut s = shared.borrow_mut();
    if s.closed || s.providers.is_empty() {
        s.provider_running = false;
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
    let mut deliveries = Vec::new();
    {
        let s = shared.borrow();
        for name in keys(&registers) {
            if let Some(p) = s.providers.get(&name) {
                let value = get(&get(&registers, &name), "value");
                let item = object(&[("name", name.as_str().into()), ("value", value)]);
                deliveries.push((p.requests.clone(), item));
            }
        }
    }
    for (stream, item) in deliveries {
        push(&stream, item.into());
    }
}

fn run(shared: SharedRef) -> impl std::future::Future<Output = ()> {
    crate::long_poll::run(
        shared,
        crate::long_poll::Poll {
            next: poll_url,
            on_answer: deliver,
            on_error: |_| {},
            on_stop: |shared| shared.borrow_mut().provider_running = false,
        },
    )
}
