//! The one provider long poll of a client: `GET /provider?name=…&wait=…` over the names of all
//! its providers; each change request goes to the `requests` stream of its provider.

use gloo_timers::future::TimeoutFuture;
use web_sys::AbortController;

use crate::convert::{get, keys, object, parse};
use crate::shared::SharedRef;
use crate::stream::push;
use crate::transport::{encode, send};

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

async fn run(shared: SharedRef) {
    let mut backoff = 250;
    while let Some((url, controller)) = poll_url(&shared) {
        let lifetime = shared.borrow().lifetime.signal();
        let signal = controller.signal();
        let result = send("GET", &url, None, Some(&signal)).await;
        if lifetime.aborted() {
            break;
        }
        match result {
            Ok(reply) if reply.status == 200 => {
                backoff = 250;
                let Ok(doc) = parse(&reply.body) else {
                    continue;
                };
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
            Err(_) if signal.aborted() => continue,
            _ => {
                TimeoutFuture::new(backoff).await;
                backoff = (backoff * 2).min(5_000);
            }
        }
    }
    shared.borrow_mut().provider_running = false;
}
