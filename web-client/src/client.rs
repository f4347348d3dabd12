//! `RegistryClient`: the entry point of the package.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use js_sys::Promise;
use registry_core::duration::{nanos_to_millis_ceil, parse_go_duration};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{AbortController, AbortSignal};

use crate::convert::{error, get, parse, stringify};
use crate::provider::{close_provider, write_task, Provider, ProviderState, Publication};
use crate::register_stream::RegisterStream;
use crate::registry_stream::RegistryStream;
use crate::shared::{Shared, SharedRef};
use crate::stream::{self, make_async_iterable, new_stream, on_close, Buffering};
use crate::transport::send;
use crate::{consumer_poll, provider_poll};

/// A connection to one registry (`https://host` for `default`, `https://host/r/name` for
/// another). All consumers of a client share one long poll and all providers another.
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
    shared: SharedRef,
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
    let ms = nanos_to_millis_ceil(nanos);
    if ms <= 0 {
        return Err(error(format!("{what} must be positive, got {text:?}")));
    }
    Ok(ms as u64)
}

#[wasm_bindgen]
impl RegistryClient {
    /// Creates a client. `options.signal` (an `AbortSignal`) closes it when aborted;
    /// `options.wait` sets the long-poll duration (default `"30s"`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: &str,
        #[wasm_bindgen(unchecked_param_type = "ClientOptions | undefined")] options: JsValue,
    ) -> Result<RegistryClient, JsValue> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(error(format!(
                "registry URL must start with http:// or https://, got {url:?}"
            )));
        }
        let wait = option_string(&options, "wait")?.unwrap_or_else(|| "30s".into());
        positive_duration(&wait, "wait")?;
        let client = RegistryClient {
            shared: Rc::new(RefCell::new(Shared {
                base: url.trim_end_matches('/').to_string(),
                wait,
                closed: false,
                consumers: BTreeMap::new(),
                all: Vec::new(),
                last: HashMap::new(),
                last_all: None,
                since: None,
                consumer_running: false,
                consumer_abort: None,
                snapshot_needed: false,
                providers: BTreeMap::new(),
                provider_running: false,
                provider_abort: None,
                lifetime: AbortController::new()?,
            })),
        };
        let signal = get(&options, "signal");
        if let Some(signal) = signal.dyn_ref::<AbortSignal>() {
            if signal.aborted() {
                client.close();
            } else {
                let weak = Rc::downgrade(&client.shared);
                let on_abort = Closure::once_into_js(move || {
                    if let Some(shared) = weak.upgrade() {
                        close_shared(&shared);
                    }
                });
                signal.add_event_listener_with_callback("abort", on_abort.unchecked_ref())?;
            }
        }
        Ok(client)
    }

    /// Watches one register. The stream starts with the current value (if the register exists)
    /// and then yields every change, including `{removed: true}` when it expires.
    #[wasm_bindgen(js_name = consume, unchecked_return_type = "RegisterStream")]
    pub fn consume(&self, name: &str) -> Result<JsValue, JsValue> {
        self.check_open()?;
        let stream = new_stream(Buffering::Latest);
        let (known, first_of_name) = {
            let mut s = self.shared.borrow_mut();
            let known = s.last.contains_key(name);
            let list = s.consumers.entry(name.to_string()).or_default();
            list.push(stream.clone());
            (known, list.len() == 1)
        };
        let weak = Rc::downgrade(&self.shared);
        let (name_owned, me) = (name.to_string(), Rc::downgrade(&stream));
        on_close(&stream, move || {
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
                consumer_poll::restart(&shared, false);
            }
        });
        if known {
            if let Some(item) = consumer_poll::last_update(&self.shared, name) {
                stream::push(&stream, item);
            }
        } else if first_of_name {
            consumer_poll::restart(&self.shared, true);
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
    #[wasm_bindgen(js_name = consumeAll, unchecked_return_type = "RegistryStream")]
    pub fn consume_all(&self) -> Result<JsValue, JsValue> {
        self.check_open()?;
        let stream = new_stream(Buffering::Latest);
        let first = {
            let mut s = self.shared.borrow_mut();
            s.all.push(stream.clone());
            s.last_all = None;
            s.all.len() == 1
        };
        let weak = Rc::downgrade(&self.shared);
        let me = Rc::downgrade(&stream);
        on_close(&stream, move || {
            let (Some(shared), Some(me)) = (weak.upgrade(), me.upgrade()) else {
                return;
            };
            shared.borrow_mut().all.retain(|x| !Rc::ptr_eq(x, &me));
            consumer_poll::restart(&shared, false);
        });
        consumer_poll::restart(&self.shared, first);
        let out = JsValue::from(RegistryStream { stream });
        make_async_iterable(&out);
        Ok(out)
    }

    /// Publishes a register and keeps it alive (re-published at half its TTL) until `close()`.
    /// `options`: `{metadata?: object, ttl?: string}` (default TTL `"10s"`). One provider per
    /// name per client.
    ///
    /// ```js
    /// const lamp = client.provide("kitchen:lamp", false, { metadata: { room: "kitchen" }, ttl: "10s" });
    /// ```
    pub fn provide(
        &self,
        name: &str,
        value: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ProvideOptions | undefined")] options: JsValue,
    ) -> Result<Provider, JsValue> {
        self.check_open()?;
        let value_json =
            stringify(&value).ok_or_else(|| error("value must be JSON-serialisable"))?;
        let ttl = option_string(&options, "ttl")?.unwrap_or_else(|| "10s".into());
        let ttl_ms = positive_duration(&ttl, "ttl")?;
        let metadata = get(&options, "metadata");
        let metadata = if metadata.is_undefined() || metadata.is_null() {
            None
        } else if metadata.is_object() && !js_sys::Array::is_array(&metadata) {
            stringify(&metadata)
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
            name: name.to_string(),
            requests: new_stream(Buffering::Queue(100)),
            commands: tx,
        });
        self.shared
            .borrow_mut()
            .providers
            .insert(name.to_string(), state.clone());
        let publication = Publication {
            name: name.to_string(),
            metadata,
            ttl,
            ttl_ms,
        };
        wasm_bindgen_futures::spawn_local(write_task(
            self.shared.clone(),
            publication,
            value_json,
            rx,
        ));
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
        let (base, signal) = {
            let s = self.shared.borrow();
            (s.base.clone(), s.lifetime.signal())
        };
        future_to_promise(async move {
            let query: Vec<String> = names
                .iter()
                .map(|n| format!("name={}", crate::transport::encode(n)))
                .collect();
            let url = format!("{base}/consumer?{}", query.join("&"));
            let reply = send("GET", &url, None, Some(&signal)).await?;
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

    /// The base URL and the client's lifetime signal, for requests.
    pub(crate) fn endpoint(&self) -> (String, AbortSignal) {
        let s = self.shared.borrow();
        (s.base.clone(), s.lifetime.signal())
    }

    fn check_open(&self) -> Result<(), JsValue> {
        if self.shared.borrow().closed {
            Err(error("client is closed"))
        } else {
            Ok(())
        }
    }
}

fn close_shared(shared: &SharedRef) {
    let (streams, providers, lifetime) = {
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
        let providers: Vec<_> = s.providers.values().cloned().collect();
        (streams, providers, s.lifetime.clone())
    };
    lifetime.abort();
    for stream in streams {
        stream::finish(&stream);
    }
    for p in providers {
        close_provider(shared, &p);
    }
}
