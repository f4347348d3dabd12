//! The floor of a Rust Durable Object for `bench/floor.mjs --baseline-rust` (issue 14): what
//! workers-rs and the wasm boundary cost when the object does the least each measured operation
//! needs. Never deployed. It answers what the plain JS baseline (`bench/baseline/worker.js`)
//! answers for the figures `put`, `get` and `ws`, on the same paths:
//!
//! - `GET  /r/{name}/consumer`: a trivial answer from the object;
//! - `PUT  /r/{name}/provider`: one SQLite row in `transactionSync` (the row id is the version,
//!   `x-registry-version`), then one text made once as a JS string and sent to every
//!   hibernatable WebSocket;
//! - `GET  /r/{name}/v1/ws`: a hibernatable WebSocket; any message is answered `synced`;
//! - `GET  /r/{name}/v1/health`: `{"status":"ok", ...counts}`.
//!
//! Anything outside `/r/{name}/` goes to the object named `default`. With the var `LOG_LINES=1`
//! (`--baseline-logs`) the object prints the registry's log lines, made by the registry's own
//! `registry_core::logline`: one per request, one more per version written. SSE, `/seed` and `/load` (the JS baseline's `sse` and cold
//! figures) are not implemented.

use registry_core::logline::{RequestLine, VersionWritten};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use worker::{
    durable_object, event, Context, Date, Env, Method, Request, Response, Result, SqlStorage,
    State, Storage, WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

/// The answer to any WebSocket message.
const SYNCED: &str = r#"{"type":"synced","watch":"w"}"#;

#[wasm_bindgen]
extern "C" {
    /// A WebSocket seen only for its `send` of a JS value (one JS string for every socket).
    type Sender;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_value(this: &Sender, text: &JsValue) -> std::result::Result<(), JsValue>;
}

/// The `{name}` of `/r/{name}/…`, if the path has one.
fn object_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/r/")?;
    let end = rest.find('/')?;
    (end > 0).then(|| &rest[..end])
}

/// The path inside the object: without `/r/{name}`.
fn inner_path(path: &str) -> &str {
    match object_name(path) {
        Some(name) => &path[3 + name.len()..],
        None => path,
    }
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let url = req.url()?;
    let name = object_name(url.path()).unwrap_or("default").to_string();
    let stub = env
        .durable_object("FLOOR")?
        .id_from_name(&name)?
        .get_stub()?;
    stub.fetch_with_request(req).await
}

/// A SQLite-backed object that does the least each measured request needs.
#[durable_object]
pub struct Floor {
    state: State,
    /// The object's storage (for `transactionSync`) and its SQL handle, taken once.
    storage: Storage,
    sql: SqlStorage,
    log_lines: bool,
}

impl worker::DurableObject for Floor {
    fn new(state: State, env: Env) -> Self {
        let storage = state.storage();
        let sql = storage.sql();
        for table in [
            "CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS versions (version INTEGER PRIMARY KEY, body TEXT NOT NULL)",
        ] {
            if let Err(e) = sql.exec(table, None) {
                worker::console_error!("floor: {e}");
            }
        }
        let log_lines = env.var("LOG_LINES").is_ok_and(|v| v.to_string() == "1");
        Floor {
            state,
            storage,
            sql,
            log_lines,
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let started = Date::now().as_millis();
        let method = req.method();
        let url = req.url()?;
        let path = inner_path(url.path());
        let (response, version) = match (path, &method) {
            ("/consumer", _) => (
                Response::builder()
                    .with_header("content-type", "application/json")?
                    .fixed(br#"{"value":1}"#.to_vec()),
                0,
            ),
            ("/provider", Method::Put) => {
                let version = self.write(&req.text().await?)?;
                let mut r = Response::empty()?.with_status(204);
                r.headers_mut()
                    .set("x-registry-version", &version.to_string())?;
                (r, version)
            }
            ("/v1/ws", _) => {
                let pair = WebSocketPair::new()?;
                self.state.accept_web_socket(&pair.server);
                (Response::from_websocket(pair.client)?, 0)
            }
            ("/v1/health", _) => (self.health()?, 0),
            _ => (Response::error("not found", 404)?, 0),
        };
        if self.log_lines {
            let line = RequestLine {
                registry: "bench",
                method: method.as_ref(),
                path,
                status: response.status_code(),
                actor: None,
                version: u64::try_from(version).unwrap_or(0),
                ops: usize::from(method == Method::Put),
                duration_ms: Date::now().as_millis().saturating_sub(started),
            };
            worker::console_log!("{}", line.line());
        }
        Ok(response)
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        _message: WebSocketIncomingMessage,
    ) -> Result<()> {
        ws.send_with_str(SYNCED)
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        let code = registry_core::stream::close_reply_code(code);
        let _ = ws.close(Some(code), Some("closed"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}

impl Floor {
    /// One row in one `transactionSync` (workers-rs offers only the async `transaction`; the
    /// registry calls `transactionSync` through `js_sys` the same way), then the broadcast.
    /// Returns the row id, the version.
    fn write(&self, body: &str) -> Result<i64> {
        let sql = self.sql.clone();
        let row = body.to_string();
        let callback = Closure::once_into_js(move || -> std::result::Result<JsValue, JsValue> {
            sql.exec("INSERT INTO versions (body) VALUES (?)", vec![row.into()])
                .map_err(JsValue::from)?;
            let id: LastId = sql
                .exec("SELECT last_insert_rowid() AS v", None)
                .and_then(|c| c.one())
                .map_err(JsValue::from)?;
            Ok(JsValue::from_f64(id.v as f64))
        });
        let storage: &JsValue = self.storage.as_raw().as_ref();
        let version = js_sys::Reflect::get(storage, &JsValue::from_str("transactionSync"))?
            .dyn_into::<js_sys::Function>()?
            .call1(storage, &callback)?
            .as_f64()
            .ok_or_else(|| worker::Error::RustError("no row id".into()))?
            as i64;
        if self.log_lines {
            let written = VersionWritten {
                version: u64::try_from(version).unwrap_or(0),
                actor: "provider".into(),
                ops: 1,
                timestamp: Date::now().as_millis(),
            };
            worker::console_log!("{}", written.line("bench"));
        }
        self.broadcast(&format!(
            r#"{{"type":"change","watch":"w","version":{version},"actor":"provider","ops":[{{"op":"update","body":{}}}]}}"#,
            json_string(body)
        ));
        Ok(version)
    }

    /// One JS string, sent to every hibernatable WebSocket.
    fn broadcast(&self, text: &str) {
        let sockets = self.state.get_websockets();
        if sockets.is_empty() {
            return;
        }
        let js = JsValue::from_str(text);
        for ws in &sockets {
            let _ = AsRef::<web_sys::WebSocket>::as_ref(ws)
                .unchecked_ref::<Sender>()
                .send_value(&js);
        }
    }

    /// `{"status":"ok", ...counts}`.
    fn health(&self) -> Result<Response> {
        let sql = &self.sql;
        let count = |table: &str| -> Result<i64> {
            let c: Count = sql
                .exec(&format!("SELECT count(*) AS n FROM {table}"), None)?
                .one()?;
            Ok(c.n)
        };
        Response::from_json(&serde_json::json!({
            "status": "ok",
            "entries": count("entries")?,
            "versions": count("versions")?,
            "sockets": self.state.get_websockets().len(),
            "streams": 0,
        }))
    }
}

/// `SELECT last_insert_rowid() AS v`.
#[derive(serde::Deserialize)]
struct LastId {
    v: i64,
}

/// `SELECT count(*) AS n`.
#[derive(serde::Deserialize)]
struct Count {
    n: i64,
}

/// `text` as a JSON string literal (JS' `JSON.stringify` of a string).
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}
