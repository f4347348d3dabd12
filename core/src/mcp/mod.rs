//! `POST /mcp`: a Model Context Protocol server over the Streamable HTTP transport, one per
//! registry. Each POST carries one JSON-RPC 2.0 message and gets one JSON answer
//! (`application/json`; the transport allows it in place of an event stream):
//!
//! - `initialize` (the protocol version negotiated from [`SUPPORTED_VERSIONS`]), `ping`,
//!   `tools/list` and `tools/call` are answered; other methods are `-32601`;
//! - notifications and responses are accepted with `202` and no body;
//! - the server is stateless: no `Mcp-Session-Id`, nothing kept between requests.
//!
//! A tool call is the HTTP request of the API it stands for ([`tools::plan`]), made by the
//! caller's principal and checked as that request would be (the role for its [`Action`], then
//! the router's own scope checks and filters), so a tool never does what the same token could
//! not do over HTTP. API errors come back as tool results with `isError: true` carrying the
//! API's error body (`code`, `message`, `reasons`).

pub mod tools;

use serde_json::{json, Value};

use crate::api::{ApiError, HttpRequest, HttpResponse};
use crate::auth::Action;
use crate::duration::Millis;
use crate::service::{Reply, Service};
use crate::store::Store;

/// The newest protocol version this server speaks (the current revision of the specification
/// with the `initialize` handshake, as the official SDKs implement it).
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// Every protocol version this server accepts, newest first; a client asking for another one
/// gets [`PROTOCOL_VERSION`] (and may disconnect).
pub const SUPPORTED_VERSIONS: [&str; 3] = [PROTOCOL_VERSION, "2025-06-18", "2025-03-26"];

/// JSON-RPC: the body is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: no such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: invalid parameters (also: an unknown tool).
pub const INVALID_PARAMS: i64 = -32602;

/// A JSON-RPC error answer (HTTP `status`).
fn rpc_error(status: u16, id: Value, code: i64, message: impl Into<String>) -> HttpResponse {
    HttpResponse::json(
        status,
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}}),
    )
}

/// A JSON-RPC result answer.
fn rpc_result(id: Value, result: Value) -> HttpResponse {
    HttpResponse::json(200, &json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

/// The tool result of an API answer: its JSON body as text (and as `structuredContent` when
/// it is an object); an answer without a body (204) becomes `{"ok": true, "version": head}`;
/// an error status sets `isError`.
pub fn tool_result(response: &HttpResponse) -> Value {
    let doc: Value = if response.body.is_empty() {
        let version = response
            .header(crate::service::VERSION_HEADER)
            .and_then(|v| v.parse::<u64>().ok());
        json!({"ok": true, "version": version})
    } else {
        serde_json::from_slice(&response.body)
            .unwrap_or_else(|_| json!(String::from_utf8_lossy(&response.body)))
    };
    let mut result = json!({
        "content": [{"type": "text", "text": doc.to_string()}],
        "isError": !(200..300).contains(&response.status),
    });
    if doc.is_object() {
        result["structuredContent"] = doc;
    }
    result
}

/// The JSON-RPC answer to a tool call that was held (a transaction awaiting validators), once
/// the API answered it.
pub fn held_tool_answer(id: Value, response: HttpResponse) -> HttpResponse {
    rpc_result(id, tool_result(&response))
}

impl<S: Store> Service<S> {
    /// `POST /mcp` (see the module documentation).
    pub(crate) fn mcp(&mut self, req: &HttpRequest, now: Millis) -> Result<Reply, ApiError> {
        let respond = |r: HttpResponse| Ok(Reply::Respond(r));
        let Ok(msg) = serde_json::from_slice::<Value>(&req.body) else {
            return respond(rpc_error(
                400,
                Value::Null,
                PARSE_ERROR,
                "the body is not JSON",
            ));
        };
        let Some(obj) = msg.as_object() else {
            return respond(rpc_error(
                400,
                Value::Null,
                INVALID_REQUEST,
                "expected one JSON-RPC message (an object; batches are not supported)",
            ));
        };
        if obj.get("jsonrpc") != Some(&json!("2.0")) {
            let id = obj.get("id").cloned().unwrap_or(Value::Null);
            return respond(rpc_error(
                400,
                id,
                INVALID_REQUEST,
                "jsonrpc must be \"2.0\"",
            ));
        }
        let method = obj.get("method").and_then(Value::as_str);
        let id = match (obj.get("id"), method) {
            // A notification, or a response to a request we never make: accepted.
            (None, _) | (Some(_), None) => return respond(HttpResponse::empty(202)),
            (Some(id @ (Value::String(_) | Value::Number(_))), Some(_)) => id.clone(),
            (Some(_), Some(_)) => {
                return respond(rpc_error(
                    400,
                    Value::Null,
                    INVALID_REQUEST,
                    "id must be a string or a number",
                ))
            }
        };
        let params = obj.get("params").cloned().unwrap_or(Value::Null);
        let answer = match method.unwrap_or_default() {
            "initialize" => rpc_result(id, initialize(&params)),
            "ping" => rpc_result(id, json!({})),
            "tools/list" => rpc_result(id, tools::definitions()),
            "tools/call" => return self.mcp_tool_call(req, id, &params, now),
            other => rpc_error(
                200,
                id,
                METHOD_NOT_FOUND,
                format!("method {other:?} is not supported"),
            ),
        };
        respond(answer)
    }

    /// `tools/call`: plans the API request, checks its action for the caller's role, routes it
    /// and wraps the answer (or holds it, like the API would).
    fn mcp_tool_call(
        &mut self,
        req: &HttpRequest,
        id: Value,
        params: &Value,
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return Ok(Reply::Respond(rpc_error(
                200,
                id,
                INVALID_PARAMS,
                "tools/call needs params.name",
            )));
        };
        let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
        let Some(planned) = tools::plan(name, &arguments) else {
            return Ok(Reply::Respond(rpc_error(
                200,
                id,
                INVALID_PARAMS,
                format!("unknown tool {name:?}"),
            )));
        };
        let reply = planned.and_then(|inner| {
            let inner = inner.by(req.principal.clone());
            // What the entry checks before a request reaches the registry.
            if !inner
                .principal
                .permits(Action::of_request(&inner.method, &inner.path))
            {
                return Err(crate::auth::forbidden());
            }
            self.route(&inner, now)
        });
        let response = match reply {
            Ok(Reply::Wait { waiter, deadline }) => {
                self.mcp_waits.insert(waiter, id);
                return Ok(Reply::Wait { waiter, deadline });
            }
            Ok(Reply::Respond(r)) => r,
            Err(e) => e.to_response(),
        };
        if response.status == 400 {
            self.counters.bad_requests += 1;
        }
        let response = response.with_header(
            crate::service::VERSION_HEADER,
            self.registry.head().to_string(),
        );
        Ok(Reply::Respond(rpc_result(id, tool_result(&response))))
    }
}

/// The `initialize` result: the negotiated version, the tools capability and who we are.
fn initialize(params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|v| SUPPORTED_VERSIONS.contains(v))
        .unwrap_or(PROTOCOL_VERSION);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "edge-registry", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "One registry of named live values. Read registers with get_register / \
            list_registers, publish with set_register, ask a provider for a change with \
            request_change; query entries with find_entries; read history with get_history and \
            diff_versions; change many entries atomically with transaction; undo with rollback.",
    })
}
