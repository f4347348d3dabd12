//! `ChangeRequestStream`: the change requests of one provider, in order.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::stream::{self, Stream};

/// Change requests for a provider's register: async-iterable and subscribable. Items are
/// `{name, value}`; up to 100 not yet taken are kept, oldest dropped first.
///
/// ```js
/// for await (const req of lamp.requests) await lamp.set(req.value);
/// ```
#[wasm_bindgen]
pub struct ChangeRequestStream {
    pub(crate) stream: Stream,
}

#[wasm_bindgen]
impl ChangeRequestStream {
    /// Calls `callback` with every request; returns the function that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(request: ChangeRequest) => void")]
        callback: Function,
    ) -> Function {
        stream::subscribe(&self.stream, callback)
    }

    /// The next request (async-iterator protocol).
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<ChangeRequest, undefined>>")]
    pub fn next(&self) -> Promise {
        stream::next(&self.stream)
    }

    /// Stops iterating (the provider keeps running; close it with `provider.close()`).
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<ChangeRequest, undefined>>"
    )]
    pub fn return_(&self) -> Promise {
        Promise::resolve(&crate::convert::iter_result(&JsValue::UNDEFINED, true))
    }
}
