//! `RegistryStream`: every register of the registry, as snapshots.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::convert::{object, version_js};
use crate::stream::{self, Stream};

/// The whole registry, live: each item is `{registers, version}` with every register's
/// `{value, metadata?}`; a slow reader skips to the latest snapshot.
///
/// ```js
/// for await (const { registers } of client.consumeAll()) render(registers);
/// ```
#[wasm_bindgen]
pub struct RegistryStream {
    pub(crate) stream: Stream,
}

#[wasm_bindgen]
impl RegistryStream {
    /// Calls `callback` with every snapshot; returns the function that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(snapshot: RegistrySnapshot) => void")]
        callback: Function,
    ) -> Function {
        stream::subscribe(&self.stream, callback)
    }

    /// The next snapshot (async-iterator protocol).
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<RegistrySnapshot, undefined>>")]
    pub fn next(&self) -> Promise {
        stream::next(&self.stream)
    }

    /// Ends the stream (called by `break` in `for await`).
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<RegistrySnapshot, undefined>>"
    )]
    pub fn return_(&self) -> Promise {
        self.close();
        stream::next(&self.stream)
    }

    /// Ends the stream.
    pub fn close(&self) {
        stream::finish(&self.stream);
    }
}

/// A `consumeAll()` item, `{registers, version}`, on either transport (`registers`: fresh
/// from JSON, held by nobody yet).
pub(crate) fn snapshot(registers: JsValue, version: Option<u64>) -> JsValue {
    object(&[("registers", registers), ("version", version_js(version))]).into()
}
