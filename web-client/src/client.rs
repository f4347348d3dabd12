//! `RegistryClient`: the entry point of the package.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use registry_core::duration::{parse_go_duration, positive_millis};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::abort::{already_aborted, on_abort, signal_of};
use crate::convert::{error, get, parse, raw, stringify};
use crate::provider::{close_provider, write_task, Provider, ProviderState, Publication};
use crate::register_stream::{last_update, RegisterStream};
use crate::registry_stream::RegistryStream;
use crate::shared::{Preference, Shared, SharedRef};
use crate::stream::{self, make_async_iterable, new_stream, on_close, Buffering, Stream};
use crate::transport::send;
use crate::{provider_poll, ws, ws_watch};

/// A connection to one registry (`https://host` for `default`, `https://host/r/name` for
/// another). Every subscription of a client — consumed registers, queries, providers,
/// validators, change requests — shares one WebSocket (`/v1/ws`), opened on first use and
/// reopened with backoff (100 ms doubling to 5 s), resuming every watch from the last version
/// it processed. If the first socket cannot be opened (`transport: "auto"`, the default), the
/// client uses HTTP long polls for the rest of its life: all consumers share one long poll and
/// all providers another.
///
/// ```js
/// import init, { RegistryClient } from "registry-web";
/// await init();
/// const client = new RegistryClient("http://127.0.0.1:8787/r/home");
/// const temp = client.consume("kitchen:temp");
/// for await (const { value } of temp) console.log(value);
/// client.close();
/// ```
#[wasm_bindgen]
pub struct RegistryClient {
    pub(crate) shared: SharedRef,
}

fn option_string(options: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let v = get(options, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| error(format!("option {key} must be a string")))
}

/// Parses a positive Go-style duration (`"10s"`, `"500ms"`) into milliseconds.
fn positive_duration(text: &str, what: &str) -> Result<u64, JsValue> {
    let nanos = parse_go_duration(text).map_err(|e| error(format!("{what}: {e}")))?;
    positive_millis(nanos).ok_or_else(|| error(format!("{what} must be positive, got {text:?}")))
}

#[wasm_bindgen]
impl RegistryClient {
    /// Creates a client. `options.signal` (an `AbortSignal`) closes it when aborted;
    /// `options.transport` is `"auto"` (default: WebSocket, long polls if it cannot be
    /// opened), `"websocket"` (never long polls) or `"long-poll"`; `options.wait` sets the
    /// long-poll duration (default `"30s"`); `options.token` is the access token of a registry
    /// that has `REGISTRY_TOKENS` set (docs/security.md): sent as `Authorization: Bearer` on
    /// HTTP and as the WebSocket subprotocol `bearer.<token>` (next to `registry`). Without
    /// it, such a registry answers 401: calls reject with an `Error` whose `status` is 401.
    ///
    /// ```js
    /// const controller = new AbortController();
    /// const client = new RegistryClient("https://reg.example/r/home", {
    ///   transport: "auto", signal: controller.signal, token: "s3cr3t-panel",
    /// });
    /// controller.abort();   // same as client.close()
    /// ```
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "ClientOptions")] options: JsValue,
    ) -> Result<RegistryClient, JsValue> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(error(format!(
                "registry URL must start with http:// or https://, got {url:?}"
            )));
        }
        let wait = option_string(&options, "wait")?.unwrap_or_else(|| "30s".into());
        positive_duration(&wait, "wait")?;
        let preference = match option_string(&options, "transport")?.as_deref() {
            None | Some("auto") => Preference::Auto,
            Some("websocket") => Preference::WebSocket,
            Some("long-poll") => Preference::LongPoll,
            Some(other) => {
                return Err(error(format!(
                    "transport must be \"auto\", \"websocket\" or \"long-poll\", got {other:?}"
                )))
            }
        };
        let token = option_string(&options, "token")?;
        if let Some(t) = &token {
            if !registry_core::auth::credentials::is_token_text(t) {
                return Err(error(
                    "token must be 1-256 characters of A-Z a-z 0-9 - . _ ~",
                ));
            }
        }
        let base = url.trim_end_matches('/').to_string();
        let client = RegistryClient {
            shared: Rc::new(RefCell::new(Shared::new(base, token, wait, preference)?)),
        };
        let answer = crate::requests::answer_function(&client.shared);
        client.shared.borrow_mut().answer = answer;
        crate::status::watch_runtime(&client.shared);
        if let Some(signal) = signal_of(&options) {
            let weak = Rc::downgrade(&client.shared);
            // Closes the client at once if the signal has already aborted.
            let listener = on_abort(&signal, move || {
                if let Some(shared) = weak.upgrade() {
                    close_shared(&shared);
                }
            });
            client.shared.borrow_mut().abort = listener;
        }
        Ok(client)
    }

    /// Watches one register. The stream starts with the current value (if the register exists)
    /// and then yields every change, including `{removed: true}` when it expires.
    /// `options.signal` closes the stream when aborted.
    ///
    /// ```js
    /// for await (const { value, removed } of client.consume("kitchen:temp")) console.log(value);
    /// ```
    #[wasm_bindgen(js_name = consume, unchecked_return_type = "RegisterStream")]
    pub fn consume(
        &self,
        name: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "{signal?: AbortSignal}")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.check_open()?;
        let stream = new_stream(Buffering::Latest);
        if already_aborted(&options) {
            let out = RegisterStream {
                name: name.to_string(),
                shared: self.shared.clone(),
                stream: stream.clone(),
            };
            return Ok(ended(&stream, out.into()));
        }
        let (known, first_of_name) = {
            let mut s = self.shared.borrow_mut();
            let known = s.last.contains_key(name);
            let list = s.consumers.entry(name.to_string()).or_default();
            list.push(stream.clone());
            (known, list.len() == 1)
        };
        let weak = Rc::downgrade(&self.shared);
        let (name_owned, me) = (name.to_string(), Rc::downgrade(&stream));
        let listener = self.abort_closes(&options, &stream);
        on_close(&stream, move || {
            drop(listener);
            let (Some(shared), Some(me)) = (weak.upgrade(), me.upgrade()) else {
                return;
            };
            let now_unwatched = {
                let mut s = shared.borrow_mut();
                let list = s.consumers.entry(name_owned.clone()).or_default();
                list.retain(|x| !Rc::ptr_eq(x, &me));
                let empty = list.is_empty();
                if empty {
                    s.consumers.remove(&name_owned);
                    s.last.remove(&name_owned);
                }
                empty
            };
            if now_unwatched {
                ws_watch::name_removed(&shared, &name_owned);
            }
        });
        if known {
            if let Some(item) = last_update(&self.shared, name) {
                stream::push(&stream, item);
            }
        } else if first_of_name {
            ws_watch::name_added(&self.shared, name);
        }
        let out = JsValue::from(RegisterStream {
            name: name.to_string(),
            shared: self.shared.clone(),
            stream,
        });
        make_async_iterable(&out);
        Ok(out)
    }

    /// Watches the whole registry: snapshots of every register, on every change.
    /// `options.signal` closes the stream when aborted.
    #[wasm_bindgen(js_name = consumeAll, unchecked_return_type = "RegistryStream")]
    pub fn consume_all(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "{signal?: AbortSignal}")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.check_open()?;
        let stream = new_stream(Buffering::Latest);
        if already_aborted(&options) {
            let out = RegistryStream {
                stream: stream.clone(),
            };
            return Ok(ended(&stream, out.into()));
        }
        self.shared.borrow_mut().all.push(stream.clone());
        let weak = Rc::downgrade(&self.shared);
        let me = Rc::downgrade(&stream);
        let listener = self.abort_closes(&options, &stream);
        on_close(&stream, move || {
            drop(listener);
            let (Some(shared), Some(me)) = (weak.upgrade(), me.upgrade()) else {
                return;
            };
            shared.borrow_mut().all.retain(|x| !Rc::ptr_eq(x, &me));
            ws_watch::all_removed(&shared);
        });
        ws_watch::all_added(&self.shared, &stream);
        let out = JsValue::from(RegistryStream { stream });
        make_async_iterable(&out);
        Ok(out)
    }

    /// Publishes a register and keeps it alive (re-published at half its TTL) until `close()`.
    /// `options`: `{metadata?: object, ttl?: string, signal?: AbortSignal}` (default TTL
    /// `"10s"`; the signal closes the provider). One provider per name per client. Its change
    /// requests arrive on `provider.requests`, each with `accept()`/`reject()`.
    ///
    /// ```js
    /// const lamp = client.provide("kitchen:lamp", false, { metadata: { room: "kitchen" }, ttl: "10s" });
    /// for await (const req of lamp.requests) {
    ///   if (typeof req.value === "boolean") await req.accept(true); // and apply it
    ///   else await req.reject("a lamp is on or off");
    /// }
    /// ```
    pub fn provide(
        &self,
        name: &str,
        value: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ProvideOptions")] options: JsValue,
    ) -> Result<Provider, JsValue> {
        self.check_open()?;
        let value = (stringify(&value).and_then(raw))
            .ok_or_else(|| error("value must be JSON-serialisable"))?;
        let ttl = option_string(&options, "ttl")?.unwrap_or_else(|| "10s".into());
        let ttl_ms = positive_duration(&ttl, "ttl")?;
        let metadata = get(&options, "metadata");
        let metadata = if metadata.is_undefined() || metadata.is_null() {
            None
        } else if metadata.is_object() && !js_sys::Array::is_array(&metadata) {
            stringify(&metadata).and_then(raw)
        } else {
            return Err(error("metadata must be an object"));
        };
        if self.shared.borrow().providers.contains_key(name) {
            return Err(error(format!(
                "register {name:?} already has an active provider"
            )));
        }
        let (tx, rx) = futures_channel::mpsc::unbounded();
        let state = Rc::new(ProviderState {
            requests: new_stream(Buffering::Queue(100)),
            commands: tx,
            publication: Publication {
                name: name.to_string(),
                ttl_ms,
            },
            abort: RefCell::new(None),
        });
        {
            let mut s = self.shared.borrow_mut();
            s.providers.insert(name.to_string(), state.clone());
            s.published.set(name, value, metadata, Some(ttl));
        }
        if let Some(signal) = signal_of(&options) {
            let (weak, me) = (Rc::downgrade(&self.shared), Rc::downgrade(&state));
            let listener = on_abort(&signal, move || {
                if let (Some(shared), Some(me)) = (weak.upgrade(), me.upgrade()) {
                    close_provider(&shared, &me);
                }
            });
            *state.abort.borrow_mut() = listener;
        }
        wasm_bindgen_futures::spawn_local(write_task(self.shared.clone(), state.clone(), rx));
        ws::ensure(&self.shared);
        provider_poll::restart(&self.shared);
        Ok(Provider {
            shared: self.shared.clone(),
            state,
        })
    }

    /// Reads registers once (all when `names` is empty): `{name: {value, metadata?}}`.
    ///
    /// ```js
    /// const { "kitchen:temp": temp } = await client.read(["kitchen:temp"]);
    /// ```
    #[wasm_bindgen(
        unchecked_return_type = "Promise<Record<string, {value: unknown, metadata?: Record<string, unknown>}>>"
    )]
    pub fn read(&self, names: Vec<String>) -> Promise {
        let (base, signal, token) = self.shared.borrow().endpoint();
        future_to_promise(async move {
            let query: Vec<String> = names
                .iter()
                .map(|n| format!("name={}", crate::transport::encode(n)))
                .collect();
            let url = format!("{base}/consumer?{}", query.join("&"));
            let reply = send("GET", &url, None, Some(&signal), token.as_deref()).await?;
            if reply.status != 200 {
                return Err(reply.into_error());
            }
            Ok(get(&parse(&reply.body)?, "registers"))
        })
    }

    /// Whether `close()` was called (or the client's signal aborted).
    #[wasm_bindgen(getter)]
    pub fn closed(&self) -> bool {
        self.shared.borrow().closed
    }

    /// Ends everything: every stream finishes, providers stop, requests in flight are aborted.
    pub fn close(&self) {
        close_shared(&self.shared);
    }

    /// Makes `options.signal` end a stream; the listener is dropped when the stream ends.
    pub(crate) fn abort_closes(
        &self,
        options: &JsValue,
        stream: &Stream,
    ) -> Option<crate::abort::Listener> {
        let signal = signal_of(options)?;
        let me = Rc::downgrade(stream);
        on_abort(&signal, move || {
            if let Some(stream) = me.upgrade() {
                stream::finish(&stream);
            }
        })
    }

    pub(crate) fn check_open(&self) -> Result<(), JsValue> {
        if self.shared.borrow().closed {
            Err(error("client is closed"))
        } else {
            Ok(())
        }
    }
}

/// A stream class object (`out`) whose stream has ended: its signal had aborted already.
pub(crate) fn ended(stream: &Stream, out: JsValue) -> JsValue {
    stream::finish(stream);
    make_async_iterable(&out);
    out
}

pub(crate) fn close_shared(shared: &SharedRef) {
    let (streams, providers, validators, lifetime, listener) = {
        let mut s = shared.borrow_mut();
        if s.closed {
            return;
        }
        s.closed = true;
        let mut streams: Vec<_> = std::mem::take(&mut s.consumers)
            .into_values()
            .flatten()
            .collect();
        streams.extend(std::mem::take(&mut s.all));
        streams.extend(std::mem::take(&mut s.queries));
        s.watches.clear();
        s.name_watch.clear();
        s.all_watch = None;
        let providers: Vec<_> = s.providers.values().cloned().collect();
        let validators: Vec<_> = std::mem::take(&mut s.validators).into_values().collect();
        let listener = s.abort.take();
        (streams, providers, validators, s.lifetime.clone(), listener)
    };
    drop(listener);
    ws::close(shared);
    lifetime.abort();
    for stream in streams {
        stream::finish(&stream);
    }
    for p in providers {
        close_provider(shared, &p);
    }
    for v in validators {
        v.settle(Err(error("client is closed")));
    }
    crate::status::report(shared, registry_core::client::status::Event::Closed);
}
