//! `RegisterStream`: the live value of one register (returned by `RegistryClient.consume`).

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::convert::{error, object, stringify};
use crate::shared::SharedRef;
use crate::stream::{self, Stream};
use crate::transport::send;

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

    /// Asks the register's provider for a new value (`PUT /consumer`). Resolves with
    /// `{name, status: "pending"}` once the registry queued it; rejects on an error.
    ///
    /// ```js
    /// await temp.request(21.5);
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<RequestOutcome>")]
    pub fn request(&self, value: JsValue) -> Promise {
        let Some(json) = stringify(&value) else {
            return Promise::reject(&error("value must be JSON-serialisable"));
        };
        let name = self.name.clone();
        let (url, signal) = {
            let s = self.shared.borrow();
            (format!("{}/consumer", s.base), s.lifetime.signal())
        };
        future_to_promise(async move {
            let key = stringify(&JsValue::from_str(&name)).unwrap_or_default();
            let body = format!("{{\"registers\":{{{key}:{{\"value\":{json}}}}}}}");
            let reply = send("PUT", &url, Some(&body), Some(&signal)).await?;
            if reply.status != 202 {
                return Err(reply.into_error());
            }
            Ok(object(&[("name", name.as_str().into()), ("status", "pending".into())]).into())
        })
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
