//! `RegistryClient`'s `/v1` methods: entries and history.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::client::RegistryClient;
use crate::convert::{error, get, object, parse, safe_u64, stringify};
use crate::transport::{encode, send};

/// Sends a `/v1` request and resolves with the parsed JSON answer; rejects with the registry's
/// error (`err.status`, `err.code`). `not_found_is_null` turns a 404 into `null`.
pub(crate) fn v1(
    client: &RegistryClient,
    method: &'static str,
    path: String,
    body: Option<String>,
    not_found_is_null: bool,
) -> Promise {
    let (base, signal, token) = client.shared.borrow().endpoint();
    future_to_promise(async move {
        let reply = send(
            method,
            &format!("{base}{path}"),
            body.as_deref(),
            Some(&signal),
            token.as_deref(),
        )
        .await?;
        if reply.status == 404 && not_found_is_null {
            return Ok(JsValue::NULL);
        }
        if !(200..300).contains(&reply.status) {
            return Err(reply.into_error());
        }
        parse(&reply.body)
    })
}

/// Fetches every page of a paged `/v1` listing (`entries` + `next_cursor`) into one array.
pub(crate) async fn all_pages(
    url: String,
    signal: web_sys::AbortSignal,
    token: Option<String>,
) -> Result<JsValue, JsValue> {
    let all = Array::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_url = url.clone();
        if let Some(c) = &cursor {
            page_url.push_str(&format!("&cursor={}", encode(c)));
        }
        let reply = send("GET", &page_url, None, Some(&signal), token.as_deref()).await?;
        if reply.status != 200 {
            return Err(reply.into_error());
        }
        let page = parse(&reply.body)?;
        for e in Array::from(&get(&page, "entries")).iter() {
            all.push(&e);
        }
        cursor = get(&page, "next_cursor").as_string();
        if cursor.is_none() {
            return Ok(all.into());
        }
    }
}

pub(crate) fn opt_u64(options: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    let v = get(options, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_f64()
        .and_then(safe_u64)
        .map(Some)
        .ok_or_else(|| error(format!("{key} must be a non-negative integer")))
}

/// A version number as URL text (integers only: formatting floats would also pull Rust's
/// float printing into the wasm).
fn version_text(what: &str, v: f64) -> Result<String, JsValue> {
    safe_u64(v)
        .map(|v| v.to_string())
        .ok_or_else(|| error(format!("{what} must be a non-negative integer")))
}

pub(crate) fn reject(e: JsValue) -> Promise {
    Promise::reject(&e)
}

#[wasm_bindgen]
impl RegistryClient {
    /// One entry, or `null` when there is none.
    ///
    /// ```js
    /// const e = await client.getEntry("svc:web");   // {id, kind, meta, data, version, …} | null
    /// ```
    #[wasm_bindgen(js_name = getEntry, unchecked_return_type = "Promise<Entry | null>")]
    pub fn get_entry(&self, id: &str) -> Promise {
        v1(
            self,
            "GET",
            format!("/v1/entries/{}", encode(id)),
            None,
            true,
        )
    }

    /// Creates or updates an entry (one version). `entry`: `{kind, data, meta?, ttl?, ifVersion?}`;
    /// `ifVersion` 0 = must not exist yet. A stale `ifVersion` rejects with `code:
    /// "version_conflict"` and writes nothing.
    ///
    /// ```js
    /// await client.putEntry("svc:web", { kind: "svc.http", meta: { port: 8080 }, data: {}, ifVersion: 0 });
    /// ```
    #[wasm_bindgen(js_name = putEntry, unchecked_return_type = "Promise<Entry>")]
    pub fn put_entry(
        &self,
        id: &str,
        #[wasm_bindgen(unchecked_param_type = "EntryInput")] entry: JsValue,
    ) -> Promise {
        let if_version = match opt_u64(&entry, "ifVersion") {
            Ok(v) => v,
            Err(e) => return reject(e),
        };
        let body = object(&[
            ("kind", get(&entry, "kind")),
            ("data", get(&entry, "data")),
            ("meta", get(&entry, "meta")),
            ("ttl", get(&entry, "ttl")),
            (
                "if_version",
                if_version.map_or(JsValue::UNDEFINED, |v| JsValue::from_f64(v as f64)),
            ),
        ]);
        let Some(body) = stringify(&body) else {
            return reject(error("entry must be JSON-serialisable"));
        };
        v1(
            self,
            "PUT",
            format!("/v1/entries/{}", encode(id)),
            Some(body),
            false,
        )
    }

    /// Deletes an entry (one version); `options.ifVersion` guards it.
    #[wasm_bindgen(js_name = deleteEntry, unchecked_return_type = "Promise<{version: number}>")]
    pub fn delete_entry(
        &self,
        id: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "{ifVersion?: number}")] options: JsValue,
    ) -> Promise {
        let query = match opt_u64(&options, "ifVersion") {
            Ok(Some(v)) => format!("?if_version={v}"),
            Ok(None) => String::new(),
            Err(e) => return reject(e),
        };
        v1(
            self,
            "DELETE",
            format!("/v1/entries/{}{query}", encode(id)),
            None,
            false,
        )
    }

    /// Versions, newest first: `{versions: [{version, parent, timestamp, actor, ops}], head,
    /// oldest, next_before}`. `options`: `{since?, before?, limit?}` (only versions after
    /// `since`, before `before`).
    ///
    /// ```js
    /// const { versions } = await client.history({ since: lastSeen, limit: 50 });
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<HistoryPage>")]
    pub fn history(
        &self,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{since?: number, before?: number, limit?: number}"
        )]
        options: JsValue,
    ) -> Promise {
        let mut query = Vec::new();
        for key in ["since", "before", "limit"] {
            match opt_u64(&options, key) {
                Ok(Some(v)) => query.push(format!("{key}={v}")),
                Ok(None) => {}
                Err(e) => return reject(e),
            }
        }
        v1(
            self,
            "GET",
            format!("/v1/versions?{}", query.join("&")),
            None,
            false,
        )
    }

    /// One version with its changeset.
    #[wasm_bindgen(unchecked_return_type = "Promise<Version>")]
    pub fn version(&self, version: f64) -> Promise {
        match version_text("version", version) {
            Ok(v) => v1(self, "GET", format!("/v1/versions/{v}"), None, false),
            Err(e) => reject(e),
        }
    }

    /// The squashed changeset from version `from` to version `to` (backwards if `to < from`).
    ///
    /// ```js
    /// const { changeset } = await client.diff(3, 7);
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<{from: number, to: number, changeset: Op[]}>")]
    pub fn diff(&self, from: f64, to: f64) -> Promise {
        match (version_text("from", from), version_text("to", to)) {
            (Ok(from), Ok(to)) => v1(
                self,
                "GET",
                format!("/v1/diff?from={from}&to={to}"),
                None,
                false,
            ),
            (Err(e), _) | (_, Err(e)) => reject(e),
        }
    }

    /// Every entry as it was at a version (pages fetched until the end).
    ///
    /// ```js
    /// const entries = await client.stateAt(5);
    /// ```
    #[wasm_bindgen(js_name = stateAt, unchecked_return_type = "Promise<Entry[]>")]
    pub fn state_at(&self, version: f64) -> Promise {
        let version = match version_text("version", version) {
            Ok(v) => v,
            Err(e) => return reject(e),
        };
        let (base, signal, token) = self.shared.borrow().endpoint();
        future_to_promise(all_pages(
            format!("{base}/v1/state?at={version}&limit=1000"),
            signal,
            token,
        ))
    }

    /// Rolls the registry back to a version: a new version whose changeset turns the current
    /// state into the state at `version`. `options.ifVersion` = the head you expect.
    ///
    /// ```js
    /// const { version, changeset } = await client.rollback(5);
    /// ```
    #[wasm_bindgen(
        unchecked_return_type = "Promise<{version: number, to: number, changeset: Op[]}>"
    )]
    pub fn rollback(
        &self,
        version: f64,
        #[wasm_bindgen(unchecked_optional_param_type = "{ifVersion?: number}")] options: JsValue,
    ) -> Promise {
        let if_version = match opt_u64(&options, "ifVersion") {
            Ok(v) => v,
            Err(e) => return reject(e),
        };
        let body = object(&[
            ("to", JsValue::from_f64(version)),
            (
                "if_version",
                if_version.map_or(JsValue::UNDEFINED, |v| JsValue::from_f64(v as f64)),
            ),
        ]);
        v1(
            self,
            "POST",
            "/v1/rollback".to_string(),
            stringify(&body),
            false,
        )
    }
}

/// The criteria of a query (an object `{"[op]field": pattern}` or an array of criterion
/// strings), as `[op]field=pattern` strings.
pub(crate) fn criteria_of(query: &JsValue) -> Result<Vec<String>, JsValue> {
    let mut criteria = Vec::new();
    if Array::is_array(query) {
        for c in Array::from(query).iter() {
            criteria.push(
                c.as_string()
                    .ok_or_else(|| error("criteria must be strings like \"^meta.room=kit\""))?,
            );
        }
    } else if query.is_object() {
        for key in crate::convert::keys(query) {
            if key.contains('=') {
                return Err(error(format!(
                    "invalid criterion key {key:?}: a key is [op]field, without '='"
                )));
            }
            let v = get(query, &key);
            let pattern = match v.as_string() {
                Some(s) => s,
                None => stringify(&v).ok_or_else(|| {
                    error(format!("pattern of {key:?} must be a string or a scalar"))
                })?,
            };
            criteria.push(format!("{key}={pattern}"));
        }
    } else {
        return Err(error(
            "a query is an object {\"[op]field\": pattern} or an array of criterion strings",
        ));
    }
    Ok(criteria)
}

/// The first page of `GET /v1/entries` (up to 1,000) matching criteria, as `all_pages` takes it.
pub(crate) fn entries_url(base: &str, criteria: &[String]) -> String {
    let params: Vec<String> = criteria
        .iter()
        .map(|c| format!("where={}", encode(c)))
        .collect();
    format!("{base}/v1/entries?limit=1000&{}", params.join("&"))
}

#[wasm_bindgen]
impl RegistryClient {
    /// Finds entries with the query engine: an object `{"[op]field": pattern}` or an array of
    /// criteria `"[op]field=pattern"`, all ANDed (ops: none = glob, `~` regex, `*` contains,
    /// `^` prefix, `$` suffix; fields `.id .ns .name .kind meta.<path> data.<path>`). Resolves
    /// with every matching entry in id order; an invalid query rejects with `code:
    /// "invalid_criterion"` naming the criterion.
    ///
    /// ```js
    /// const lamps = await client.find({ ".kind": "register", "^meta.room": "kit" });
    /// const web = await client.find(["~.id=^svc:", "meta.port=8080"]);
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<Entry[]>")]
    pub fn find(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "Record<string, string | number | boolean | null> | string[]"
        )]
        query: JsValue,
    ) -> Promise {
        let criteria = match criteria_of(&query) {
            Ok(c) => c,
            Err(e) => return reject(e),
        };
        let (base, signal, token) = self.shared.borrow().endpoint();
        future_to_promise(all_pages(entries_url(&base, &criteria), signal, token))
    }
}
