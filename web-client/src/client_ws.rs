//! `RegistryClient`'s stream methods beyond registers: `watch(criteria)`, `validate()`,
//! `request()` and the `transport` in use.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::abort::{already_aborted, signal_of};
use crate::client::RegistryClient;
use crate::client_v1::criteria_of;
use crate::query_stream::QueryStream;
use crate::stream::{make_async_iterable, new_stream, on_close, Buffering};
use crate::validator::Validator;
use crate::ws_watch;

#[wasm_bindgen]
impl RegistryClient {
    /// Watches a query (criteria as in `find()`: an object `{"[op]field": pattern}` or an array
    /// of `"[op]field=pattern"` strings): a `QueryStream` whose items are `{version, entries,
    /// ops?}`, the full matching set after each version. Over the WebSocket the registry pushes
    /// every version that touches the query; on long polls the client checks the registry
    /// version every second and re-reads the result when it moved (items then have no `ops`).
    /// `options.signal` closes the stream when aborted.
    ///
    /// ```js
    /// const kitchen = client.watch({ "^meta.room": "kit" });
    /// const off = kitchen.subscribe(({ version, entries }) => render(version, entries));
    /// for await (const { entries } of client.watch([".kind=svc.http", "meta.port=8080"])) {
    ///   console.log(entries.length, "web services");
    /// }
    /// ```
    #[wasm_bindgen(unchecked_return_type = "QueryStream")]
    pub fn watch(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "Record<string, string | number | boolean | null> | string[]"
        )]
        criteria: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{signal?: AbortSignal}")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.check_open()?;
        let criteria = criteria_of(&criteria)?;
        let stream = new_stream(Buffering::Latest);
        if already_aborted(&options) {
            let out = QueryStream {
                stream: stream.clone(),
            };
            return Ok(crate::client::ended(&stream, out.into()));
        }
        self.shared.borrow_mut().queries.push(stream.clone());
        let listener = self.abort_closes(&options, &stream);
        let (weak, me) = (
            std::rc::Rc::downgrade(&self.shared),
            std::rc::Rc::downgrade(&stream),
        );
        on_close(&stream, move || {
            drop(listener);
            if let (Some(shared), Some(me)) = (weak.upgrade(), me.upgrade()) {
                ws_watch::query_removed(&shared, &me);
            }
        });
        ws_watch::query_added(&self.shared, &stream, criteria);
        let out = JsValue::from(QueryStream { stream });
        make_async_iterable(&out);
        Ok(out)
    }

    /// Takes part in transactions: every transaction (`transaction()`, `putEntry()`,
    /// `deleteEntry()`) touching an entry that matches `criteria` waits until `fn({tx,
    /// validator, ops, deadline})` decides. `fn` returns (or resolves with) `true` or nothing
    /// to accept, `false` to reject, or a string: the rejection reason; throwing rejects with
    /// the error's message. The transaction then fails with `code: "rejected"` and the reason
    /// (listener `validator:<id>`). Needs the WebSocket: throws on a client that uses long
    /// polls, and `ready` rejects if the client falls back to them. `options.signal` stops it.
    ///
    /// ```js
    /// const v = client.validate({ ".kind": "svc.http" }, async ({ ops }) => {
    ///   for (const op of ops) if (op.entry && !op.entry.meta.port) return `${op.id} has no port`;
    ///   return true;
    /// });
    /// await v.ready;
    /// await client.putEntry("svc:web", { kind: "svc.http", data: {} });  // rejects: no port
    /// v.close();
    /// ```
    pub fn validate(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "Record<string, string | number | boolean | null> | string[]"
        )]
        criteria: JsValue,
        #[wasm_bindgen(
            unchecked_param_type = "(request: ValidationRequest) => boolean | string | void | Promise<boolean | string | void>"
        )]
        callback: Function,
        #[wasm_bindgen(unchecked_optional_param_type = "{signal?: AbortSignal}")] options: JsValue,
    ) -> Result<Validator, JsValue> {
        self.check_open()?;
        let criteria = criteria_of(&criteria)?;
        crate::validator::validate(&self.shared, criteria, callback, signal_of(&options))
    }

    /// Asks the provider of register `name` for `value`; resolves with the final outcome
    /// `{request, name, status, reason?}` (see `RegisterStream.request`). `options.signal`
    /// stops waiting.
    ///
    /// ```js
    /// const { status } = await client.request("kitchen:lamp", true);
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<RequestOutcome>")]
    pub fn request(
        &self,
        name: &str,
        value: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{signal?: AbortSignal}")] options: JsValue,
    ) -> Promise {
        crate::requests::request(&self.shared, name, &value, signal_of(&options))
    }

    /// The transport in use: `"websocket"`, `"long-poll"`, or `"connecting"` until the first
    /// socket opens or fails.
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "\"connecting\" | \"websocket\" | \"long-poll\""
    )]
    pub fn transport(&self) -> String {
        self.shared.borrow().transport.mode().name().to_string()
    }

    /// The connection status: `"connecting"` until the first socket opens, `"live"` while one
    /// is open, `"reconnecting"` after it was lost (retrying with backoff), `"offline"` after 6
    /// failed attempts in a row or when the browser reports it is offline (still retrying),
    /// `"long-poll"` on long polls (that answer), `"closed"` after `close()`. A client that
    /// only reads over HTTP opens no socket and stays `"connecting"`.
    ///
    /// ```js
    /// if (client.status !== "live") banner.textContent = client.status;
    /// ```
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionStatus")]
    pub fn status(&self) -> String {
        self.shared
            .borrow()
            .status
            .tracker
            .status()
            .name()
            .to_string()
    }

    /// Calls `callback(status)` with the new status name every time `status` changes; returns
    /// the function that stops it.
    ///
    /// ```js
    /// const off = client.onStatus((status) => { badge.dataset.status = status; });
    /// // later
    /// off();
    /// ```
    #[wasm_bindgen(js_name = onStatus, unchecked_return_type = "() => void")]
    pub fn on_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: ConnectionStatus) => void")]
        callback: Function,
    ) -> Function {
        crate::status::subscribe(&self.shared, callback)
    }
}
