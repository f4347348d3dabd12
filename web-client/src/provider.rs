//! `Provider`: publishes one register, keeps it alive by re-publishing at half its TTL, and
//! receives its change requests. All writes of a provider go through one task, one at a time,
//! so a refresh never overtakes a `set()`. Over the WebSocket a write is a `provide` message
//! (which also routes the register's requests to this socket; a reopened socket gets every
//! published register again); over long polls a `PUT /provider`. What is published, and what a
//! reopened socket is sent, is decided in core (`registry_core::client::provided`).

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::{mpsc, oneshot};
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use gloo_timers::future::TimeoutFuture;
use js_sys::Promise;
use registry_core::api::register_body::provider_body;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::abort::Listener;
use crate::convert::{error, raw, stringify};
use crate::shared::{now_ms, Mode, Shared, SharedRef};
use crate::stream::{finish, Stream};
use crate::transport::send;
use crate::ws::{self, CallError, ClientMsg};

/// What the write task is asked to do.
pub enum Command {
    /// Publish a new value (JSON text), then report the outcome.
    Set(String, oneshot::Sender<Result<(), JsValue>>),
    /// Stop.
    Close,
}

/// A provider as the client's poll loop sees it.
pub struct ProviderState {
    /// Where its change requests go.
    pub requests: Stream,
    /// Commands to its write task.
    pub commands: mpsc::UnboundedSender<Command>,
    /// How it publishes (the value, metadata and TTL sent are in `Shared::published`).
    pub publication: Publication,
    /// The `options.signal` listener (dropped on close).
    pub abort: RefCell<Option<Listener>>,
}

/// How a provider publishes: fixed for its life.
pub struct Publication {
    /// Register name.
    pub name: String,
    /// TTL in ms.
    pub ttl_ms: u64,
}

/// Whether `state` is the client's provider of its name (not one closed and replaced).
fn current(s: &Shared, state: &Rc<ProviderState>) -> bool {
    (s.providers.get(&state.publication.name)).is_some_and(|p| Rc::ptr_eq(p, state))
}

/// Publishes the provider's current value: a `provide` message once the socket is open, or a
/// `PUT /provider` on long polls. Once the registry has it, every socket that opens publishes
/// it again.
async fn publish(shared: &SharedRef, state: &Rc<ProviderState>) -> Result<(), JsValue> {
    let name = &state.publication.name;
    let mode = ws::usable(shared).await?;
    let registers = {
        let s = shared.borrow();
        if !current(&s, state) {
            return Err(error("provider is closed"));
        }
        s.published.registers(name)
    };
    let result = if mode == Mode::WebSocket {
        let msg = ClientMsg::Provide { registers };
        match ws::call(shared, &msg).await {
            Ok(_) => Ok(()),
            Err(CallError::Server(e)) => Err(e),
            Err(CallError::Lost) => Err(error("connection lost; publishing again")),
        }
    } else {
        let (base, signal, token) = shared.borrow().endpoint();
        let body = String::from_utf8(provider_body(&registers)).unwrap_or_default();
        let url = format!("{base}/provider");
        let reply = send("PUT", &url, Some(&body), Some(&signal), token.as_deref()).await?;
        if reply.status == 204 {
            Ok(())
        } else {
            Err(reply.into_error())
        }
    };
    let mut s = shared.borrow_mut();
    if result.is_ok() && current(&s, state) {
        s.published.confirm(name);
    }
    result
}

/// One `provide` message with every published register, for a socket that just opened.
pub fn resume_message(s: &Shared) -> Option<String> {
    s.published.resume()
}

/// The write task: publishes at once, then on every `set()` and at half the TTL after the last
/// successful write (1 s after a failed one).
pub async fn write_task(
    shared: SharedRef,
    state: Rc<ProviderState>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let half = (state.publication.ttl_ms / 2).max(1) as f64;
    let mut next_write = now_ms();
    loop {
        let delay = (next_write - now_ms()).max(0.0) as u32;
        let result = match select(commands.next(), TimeoutFuture::new(delay)).await {
            Either::Left((Some(Command::Set(json, done)), _)) => {
                {
                    let mut s = shared.borrow_mut();
                    if let (true, Some(value)) = (current(&s, &state), raw(json)) {
                        s.published.set_value(&state.publication.name, value);
                    }
                }
                let r = publish(&shared, &state).await;
                let ok = r.is_ok();
                let _ = done.send(r);
                ok
            }
            Either::Left((Some(Command::Close), _)) | Either::Left((None, _)) => break,
            Either::Right(_) => publish(&shared, &state).await.is_ok(),
        };
        if shared.borrow().closed {
            break;
        }
        next_write = now_ms() + if result { half } else { 1_000.0 };
    }
}

/// Publishes one register and receives its change requests.
///
/// ```js
/// const lamp = client.provide("kitchen:lamp", false, { metadata: { room: "kitchen" }, ttl: "10s" });
/// for await (const req of lamp.requests) {
///   await lamp.set(req.value);
/// }
/// ```
#[wasm_bindgen]
pub struct Provider {
    pub(crate) shared: SharedRef,
    pub(crate) state: Rc<ProviderState>,
}

#[wasm_bindgen]
impl Provider {
    /// The register this provider publishes.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.state.publication.name.clone()
    }

    /// The change requests consumers send for this register (async-iterable, in order). Each
    /// is `{name, value, request, accept(apply?), reject(reason?)}`: `accept(true)` also sets
    /// the register to the requested value; publishing exactly that value accepts it too.
    #[wasm_bindgen(getter, unchecked_return_type = "ChangeRequestStream")]
    pub fn requests(&self) -> JsValue {
        let out = JsValue::from(crate::request_stream::ChangeRequestStream {
            stream: self.state.requests.clone(),
        });
        crate::stream::make_async_iterable(&out);
        out
    }

    /// Publishes a new value; resolves once the registry has it, rejects with the registry's
    /// error otherwise. Writes are applied in call order.
    ///
    /// ```js
    /// await lamp.set(true);
    /// ```
    pub fn set(&self, value: JsValue) -> Promise {
        let Some(json) = stringify(&value) else {
            return Promise::reject(&error("value must be JSON-serialisable"));
        };
        let (tx, rx) = oneshot::channel();
        if self
            .state
            .commands
            .unbounded_send(Command::Set(json, tx))
            .is_err()
        {
            return Promise::reject(&error("provider is closed"));
        }
        future_to_promise(async move {
            match rx.await {
                Ok(Ok(())) => Ok(JsValue::UNDEFINED),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(error("provider is closed")),
            }
        })
    }

    /// Stops publishing (and receiving requests) and ends `requests`. The register stays until
    /// its TTL runs out.
    pub fn close(&self) {
        close_provider(&self.shared, &self.state);
    }
}

/// Removes a provider from its client and stops it (idempotent).
pub fn close_provider(shared: &SharedRef, state: &Rc<ProviderState>) {
    let name = &state.publication.name;
    let removed = {
        let mut s = shared.borrow_mut();
        match s.providers.get(name) {
            Some(p) if Rc::ptr_eq(p, state) => {
                s.published.remove(name);
                s.providers.remove(name).is_some()
            }
            _ => false,
        }
    };
    let _ = state.commands.unbounded_send(Command::Close);
    let listener = state.abort.borrow_mut().take();
    drop(listener);
    finish(&state.requests);
    if removed {
        let names = vec![name.clone()];
        ws::send(shared, &ClientMsg::Unprovide { names });
        crate::provider_poll::restart(shared);
    }
}
