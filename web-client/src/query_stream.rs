//! `QueryStream`: the live result of a query (returned by `RegistryClient.watch`).

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::stream::{self, Stream};

/// The live result of a query: async-iterable and subscribable. Each item is `{version,
/// entries, ops?}`: every entry matching the query after `version` (in id order), and — for a
/// version that changed some — the operations of that version that touched the query (`entry:
/// null` when an entry was deleted or stopped matching). The first item is the current result.
/// A slow reader skips to the latest result; callbacks see every item. An invalid query ends
/// the stream with the registry's error (`code: "invalid_criterion"`).
///
/// ```js
/// const lamps = client.watch({ ".kind": "register", "$.name": "lamp" });
/// for await (const { version, entries } of lamps) {
///   console.log(version, entries.map((e) => `${e.id}=${JSON.stringify(e.data)}`));
/// }
/// ```
#[wasm_bindgen]
pub struct QueryStream {
    pub(crate) stream: Stream,
}

#[wasm_bindgen]
impl QueryStream {
    /// Calls `callback` with every result; returns the function that unsubscribes.
    ///
    /// ```js
    /// const off = client.watch([".kind=svc.http"]).subscribe(({ entries }) => render(entries));
    /// off();
    /// ```
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(result: QueryResult) => void")] callback: Function,
    ) -> Function {
        stream::subscribe(&self.stream, callback)
    }

    /// The next result (async-iterator protocol).
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<QueryResult, undefined>>")]
    pub fn next(&self) -> Promise {
        stream::next(&self.stream)
    }

    /// Ends the stream (called by `break` in `for await`).
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<QueryResult, undefined>>"
    )]
    pub fn return_(&self) -> Promise {
        self.close();
        stream::next(&self.stream)
    }

    /// Ends the stream and its watch.
    pub fn close(&self) {
        stream::finish(&self.stream);
    }
}
