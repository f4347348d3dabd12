//! `RegistryClient.transaction()` and `config` methods.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

use crate::client::RegistryClient;
use crate::client_v1::{opt_u64, reject, v1};
use crate::convert::{error, get, object, stringify};

#[wasm_bindgen]
impl RegistryClient {
    /// Applies several operations atomically as one version, or none. Each operation is
    /// `{op: "create" | "update" | "upsert" | "delete", id, kind?, meta?, data?, ttl?, ifVersion?}`;
    /// `options.ifVersion` guards the whole registry. Resolves with `{version, changeset}` (the
    /// changeset in the dependency order it was applied in); rejects with `code: "conflict"`
    /// (409) or `"rejected"` (422) and `reasons: [{op, id, listener?, reason}]` — every reason.
    ///
    /// ```js
    /// const { version } = await client.transaction([
    ///   { op: "create", id: "app:web", kind: "svc", meta: { depends_on: "db" }, data: {} },
    ///   { op: "upsert", id: "app:db", kind: "svc", data: {} },
    /// ]);
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<{version: number, changeset: Op[]}>")]
    pub fn transaction(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TxOp[]")] ops: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{ifVersion?: number}")] options: JsValue,
    ) -> Promise {
        if !Array::is_array(&ops) {
            return reject(error("ops must be an array"));
        }
        let wire = Array::new();
        for op in Array::from(&ops).iter() {
            let if_version = match opt_u64(&op, "ifVersion") {
                Ok(v) => v.map_or(JsValue::UNDEFINED, |v| JsValue::from_f64(v as f64)),
                Err(e) => return reject(e),
            };
            let keys = ["op", "id", "kind", "meta", "data", "ttl"];
            let pairs: Vec<(&str, JsValue)> = keys
                .iter()
                .map(|k| (*k, get(&op, k)))
                .chain(std::iter::once(("if_version", if_version)))
                .collect();
            wire.push(&object(&pairs).into());
        }
        let if_version = match opt_u64(&options, "ifVersion") {
            Ok(v) => v.map_or(JsValue::UNDEFINED, |v| JsValue::from_f64(v as f64)),
            Err(e) => return reject(e),
        };
        let body = object(&[("ops", wire.into()), ("if_version", if_version)]);
        let Some(body) = stringify(&body) else {
            return reject(error("operations must be JSON-serialisable"));
        };
        v1(self, "POST", "/v1/tx".into(), Some(body), false)
    }

    /// Entries this entry depends on and entries that depend on it:
    /// `{id, needs: [{id, exists}], needed_by: [id]}`.
    #[wasm_bindgen(
        unchecked_return_type = "Promise<{id: string, needs: {id: string, exists: boolean}[], needed_by: string[]}>"
    )]
    pub fn dependencies(&self, id: &str) -> Promise {
        v1(
            self,
            "GET",
            format!("/v1/entries/{}/dependencies", crate::transport::encode(id)),
            None,
            false,
        )
    }
}
