//! HTTP over the global `fetch` (browsers, Node ≥ 18, workers alike).

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, Request, RequestInit, Response};

use crate::convert::{coded_error, get};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> js_sys::Promise;
}

/// A finished HTTP exchange.
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `X-Registry-Version`, when present.
    pub version: Option<u64>,
    /// Body text.
    pub body: String,
    /// `X-Request-Ids` (JSON `{name: id}`), on `GET /provider` answers.
    pub request_ids: Option<String>,
}

impl Reply {
    /// The error a non-success reply stands for: a JS `Error` with the server's message, and
    /// `status`, `code` (e.g. `version_conflict`) and, for transactions, `reasons` properties.
    pub fn into_error(self) -> JsValue {
        let err = crate::convert::parse(&self.body)
            .map(|v| get(&v, "error"))
            .unwrap_or(JsValue::UNDEFINED);
        let detail = get(&err, "message").as_string().unwrap_or(self.body);
        let e = coded_error(
            format!("registry answered HTTP {}: {detail}", self.status),
            &err,
        );
        let _ = js_sys::Reflect::set(&e, &"status".into(), &JsValue::from(self.status));
        e
    }
}

/// Sends a request and reads the whole body. Rejects on network errors and on abort.
/// `token` (the client's `options.token`) goes in `Authorization: Bearer <token>`.
pub async fn send(
    method: &str,
    url: &str,
    body: Option<&str>,
    signal: Option<&AbortSignal>,
    token: Option<&str>,
) -> Result<Reply, JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new()?;
    if let Some(token) = token {
        headers.set("authorization", &format!("Bearer {token}"))?;
    }
    if let Some(body) = body {
        headers.set("content-type", "application/json")?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    if let Some(signal) = signal {
        init.set_signal(Some(signal));
    }
    let request = Request::new_with_str_and_init(url, &init)?;
    let response: Response = JsFuture::from(global_fetch(&request)).await?.dyn_into()?;
    let version = response
        .headers()
        .get("x-registry-version")?
        .and_then(|v| v.parse().ok());
    let request_ids = response.headers().get("x-request-ids")?;
    let body = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok(Reply {
        status: response.status(),
        version,
        body,
        request_ids,
    })
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value)
        .as_string()
        .unwrap_or_default()
}
