//! `RegisterStream`: the live value of one register (returned by `RegistryClient.consume`).

use std::collections::HashMap;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::convert::{get, object, parse, version_js};
use crate::shared::SharedRef;
use crate::stream::{self, fan_out, Stream};

/// The live value of one register: async-iterable and subscribable. Items are
/// `{name, value, metadata, version, removed}`; a slow reader skips to the latest value.
///
/// ```js
/// const temp = client.consume("kitchen:temp");
/// const off = temp.subscribe(({ value }) => console.log("now", value));
/// for await (const { value, metadata, removed } of temp) {
///   if (removed) console.log("gone"); else console.log(value, metadata.unit);
/// }
/// off();
/// ```
#[wasm_bindgen]
pub struct RegisterStream {
    pub(crate) name: String,
    pub(crate) shared: SharedRef,
    pub(crate) stream: Stream,
}

#[wasm_bindgen]
impl RegisterStream {
    /// The register's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Calls `callback` with every update; returns the function that unsubscribes.
    ///
    /// ```js
    /// const off = stream.subscribe(update => render(update.value));
    /// off();
    /// ```
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(update: RegisterUpdate) => void")]
        callback: Function,
    ) -> Function {
        stream::subscribe(&self.stream, callback)
    }

    /// Asks the register's provider for a new value and resolves with the final outcome
    /// `{request, name, status, reason?}` — `status` is `"accepted"`, `"rejected"` (with the
    /// provider's `reason`), `"superseded"` (a newer request for the register came first) or
    /// `"expired"` (no provider answered within 60 s). Rejects on an error, and with
    /// `options.signal`'s reason when it aborts (the request itself stays in the registry).
    ///
    /// ```js
    /// const { status, reason } = await temp.request(21.5, { signal: AbortSignal.timeout(90_000) });
    /// if (status !== "accepted") console.warn("not applied:", status, reason);
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<RequestOutcome>")]
    pub fn request(
        &self,
        value: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{signal?: AbortSignal}")] options: JsValue,
    ) -> Promise {
        crate::requests::request(
            &self.shared,
            &self.name,
            &value,
            crate::abort::signal_of(&options),
        )
    }

    /// The next update (async-iterator protocol).
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<RegisterUpdate, undefined>>")]
    pub fn next(&self) -> Promise {
        stream::next(&self.stream)
    }

    /// Ends the stream (called by `break` in `for await`).
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<RegisterUpdate, undefined>>"
    )]
    pub fn return_(&self) -> Promise {
        self.close();
        stream::next(&self.stream)
    }

    /// Ends the stream and stops watching the register if no other stream does.
    pub fn close(&self) {
        stream::finish(&self.stream);
    }
}

/// `{name, value, metadata, version, removed}` for one register (`reg` undefined = removed).
pub(crate) fn register_update(name: &str, reg: &JsValue, version: &JsValue) -> JsValue {
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

/// What a new state of a consumed name delivers to its streams, on either transport. `text` is
/// the register as JSON (`{metadata?, value}`; `None`: absent). Nothing when it is the state
/// last seen (e.g. a TTL-only version) or when the name is absent and was never seen; else an
/// update, built from `text`, for each stream. Records the state in `last`.
pub(crate) fn name_deliveries(
    last: &mut HashMap<String, Option<String>>,
    streams: &[Stream],
    name: &str,
    text: Option<String>,
    version: &JsValue,
) -> Vec<(Stream, JsValue)> {
    let known = last.get(name);
    if known == Some(&text) {
        return Vec::new();
    }
    // Absent and never seen: nothing to report yet.
    let report = text.is_some() || matches!(known, Some(Some(_)));
    let reg = text
        .as_deref()
        .and_then(|t| parse(t).ok())
        .unwrap_or(JsValue::UNDEFINED);
    last.insert(name.to_string(), text);
    if !report {
        return Vec::new();
    }
    fan_out(streams, &register_update(name, &reg, version))
}

/// The last state of a name as an update item, if it is known and present.
pub(crate) fn last_update(shared: &SharedRef, name: &str) -> Option<JsValue> {
    let s = shared.borrow();
    let text = s.last.get(name)?.as_ref()?;
    let reg = parse(text).ok()?;
    let version = match s.name_watch.get(name) {
        Some(id) => s.subs.cursor(id).and_then(|c| c.version()),
        None => s.since,
    };
    Some(register_update(name, &reg, &version_js(version)))
}
