//! The check of the `mcp` fuzz target: `POST /mcp` bodies (JSON-RPC messages, tool calls with
//! any arguments) to a fresh [`fixture`] registry.

use serde_json::Value;

use super::core_api::{self, Answer};
use super::props::{check_durable, check_response, fixture, stored, NOW};

/// The JSON-RPC error codes the server answers.
const RPC_CODES: [i64; 4] = [-32700, -32600, -32601, -32602];

/// Runs the check on one input; panics on a violation.
///
/// No 5xx; a notification or response is a bodiless 202 that changes nothing; anything else is
/// one JSON-RPC 2.0 answer with exactly one of `result` and `error` (a known code and a
/// message), an error changes nothing; a tool result's text is JSON equal to its
/// `structuredContent`, and a tool error carries an API error (`code`, `message`, never a
/// server failure) and changes nothing; the in-memory state is always what the store reloads
/// to.
pub fn check(data: &[u8]) {
    let mut svc = fixture();
    let what = format!("POST /mcp {:?}", String::from_utf8_lossy(data));
    let before = stored(&svc);
    let r = match core_api::handle(&mut svc, "POST", "/mcp", data, NOW) {
        Answer::Now(r) => r,
        Answer::Held { waiter, deadline } => core_api::resume(&mut svc, waiter, deadline),
    };
    assert!(r.status < 500, "{what}: {} {:?}", r.status, r.body);
    let unchanged = |svc: &core_api::Svc, why: &str| {
        assert_eq!(stored(svc), before, "{what}: {why}, but the store changed");
    };
    match r.status {
        202 => {
            assert!(r.body.is_empty(), "{what}: a 202 with a body");
            unchanged(&svc, "accepted as a notification");
        }
        200 | 400 => {
            let doc: Value = serde_json::from_slice(&r.body)
                .unwrap_or_else(|e| panic!("{what}: the answer is not JSON ({e})"));
            assert_eq!(doc["jsonrpc"], "2.0", "{what}: {doc}");
            assert!(doc.get("id").is_some(), "{what}: no id: {doc}");
            match (doc.get("result"), doc.get("error")) {
                (Some(result), None) => {
                    assert_eq!(r.status, 200, "{what}: a result with {}", r.status);
                    check_tool_result(result, &what, || unchanged(&svc, "a tool error"));
                }
                (None, Some(error)) => {
                    let code = error["code"].as_i64().unwrap_or_default();
                    assert!(RPC_CODES.contains(&code), "{what}: code {code}");
                    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
                    unchanged(&svc, "a JSON-RPC error");
                }
                _ => panic!("{what}: exactly one of result and error: {doc}"),
            }
        }
        _ => {
            // Refused before the JSON-RPC layer (body too large): an API error.
            check_response(&r, &what);
            unchanged(&svc, "refused");
        }
    }
    check_durable(&svc, &what);
}

/// A `tools/call` result (other results pass through).
fn check_tool_result(result: &Value, what: &str, unchanged: impl FnOnce()) {
    let Some(is_error) = result.get("isError") else {
        return;
    };
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: a tool result without text: {result}"));
    let doc: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: the tool's text is not JSON ({e})"));
    if doc.is_object() {
        assert_eq!(doc, result["structuredContent"], "{what}");
    }
    if is_error == true {
        let code = doc["error"]["code"].as_str().unwrap_or_default();
        assert!(
            !code.is_empty(),
            "{what}: a tool error without a code: {doc}"
        );
        assert!(doc["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        assert!(
            ![
                "internal",
                "storage_error",
                "history_corrupt",
                "unknown_waiter"
            ]
            .contains(&code),
            "{what}: a server failure for client input: {doc}"
        );
        unchanged();
    }
}
