//! `POST /mcp`: the JSON-RPC envelope of the Streamable HTTP transport, the tools list, and a
//! call of every tool answered as the API answers.

use registry_tests::{Harness, Ticket};
use serde_json::{json, Value};

/// Sends one JSON-RPC message; the HTTP status and the parsed body (`Null` when empty).
pub fn post(h: &mut Harness, msg: &Value) -> (u16, Value) {
    let r = h.call("POST", "/mcp", &msg.to_string());
    let body = if r.body.is_empty() {
        Value::Null
    } else {
        assert_eq!(r.header("content-type"), Some("application/json"));
        r.json_body()
    };
    (r.status, body)
}

/// Calls a tool: its result (`content`, `isError`, `structuredContent`).
pub fn call(h: &mut Harness, tool: &str, arguments: Value) -> Value {
    let (status, body) = post(
        h,
        &json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":tool,"arguments":arguments}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], 7);
    let result = body["result"].clone();
    // The text content is the structured content, for clients that read only text.
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, result["structuredContent"]);
    result
}

/// The result of a tool that must succeed.
pub fn ok(h: &mut Harness, tool: &str, arguments: Value) -> Value {
    let r = call(h, tool, arguments);
    assert_eq!(r["isError"], false, "{tool}: {r}");
    r["structuredContent"].clone()
}

/// The API error code of a tool that must fail.
pub fn error_code(h: &mut Harness, tool: &str, arguments: Value) -> String {
    let r = call(h, tool, arguments);
    assert_eq!(r["isError"], true, "{tool}: {r}");
    let error = &r["structuredContent"]["error"];
    assert!(error["message"].is_string());
    error["code"].as_str().unwrap().to_string()
}

#[test]
fn initialize_negotiates_the_version_and_announces_tools() {
    let mut h = Harness::new();
    let (status, body) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
            "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
    );
    assert_eq!(status, 200);
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["id"], 1);
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(
        body["result"]["capabilities"]["tools"]["listChanged"],
        false
    );
    assert_eq!(body["result"]["serverInfo"]["name"], "edge-registry");
    let (_, body) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","id":"x","method":"initialize","params":{"protocolVersion":"1999-01-01"}}),
    );
    assert_eq!(body["id"], "x");
    assert_eq!(
        body["result"]["protocolVersion"],
        registry_core::mcp::PROTOCOL_VERSION
    );
    assert_eq!(registry_core::mcp::PROTOCOL_VERSION, "2025-11-25");
    let (_, body) = post(&mut h, &json!({"jsonrpc":"2.0","id":2,"method":"ping"}));
    assert_eq!(body["result"], json!({}));
}

#[test]
fn the_envelope_follows_the_transport() {
    let mut h = Harness::new();
    // Notifications and responses: 202, no body.
    let (status, body) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    );
    assert_eq!((status, body), (202, Value::Null));
    let (status, _) = post(&mut h, &json!({"jsonrpc":"2.0","id":3,"result":{}}));
    assert_eq!(status, 202);
    // No event stream to open, no session to end.
    assert_eq!(h.get("/mcp").status, 405);
    assert_eq!(h.call("DELETE", "/mcp", "").status, 405);
    let r = h.call("POST", "/mcp", "{not json");
    assert_eq!(r.status, 400);
    assert_eq!(r.json_body()["error"]["code"], -32700);
    assert_eq!(r.json_body()["id"], Value::Null);
    let (status, body) = post(&mut h, &json!([{"jsonrpc":"2.0","id":1,"method":"ping"}]));
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32600))
    );
    let (status, body) = post(&mut h, &json!({"jsonrpc":"1.0","id":1,"method":"ping"}));
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32600))
    );
    let (status, body) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","id":{"a":1},"method":"ping"}),
    );
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32600))
    );
    let (status, body) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","id":4,"method":"resources/list"}),
    );
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (200, json!(-32601))
    );
    assert_eq!(body["id"], 4);
    let (_, body) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"format_disk","arguments":{}}}),
    );
    assert_eq!(body["error"]["code"], -32602);
    let (_, body) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{}}),
    );
    assert_eq!(body["error"]["code"], -32602);
}

#[test]
fn tools_list_describes_every_tool_with_a_schema() {
    let mut h = Harness::new();
    let (_, body) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}),
    );
    let tools = body["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "get_register",
            "set_register",
            "list_registers",
            "request_change",
            "find_entries",
            "get_history",
            "diff_versions",
            "rollback",
            "transaction"
        ]
    );
    for t in tools {
        assert!(t["description"].as_str().unwrap().len() > 40, "{t}");
        let schema = &t["inputSchema"];
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        for required in schema["required"].as_array().unwrap() {
            assert!(schema["properties"]
                .get(required.as_str().unwrap())
                .is_some());
        }
    }
}

#[test]
fn every_tool_does_what_its_request_does() {
    let mut h = Harness::new();
    let set = ok(
        &mut h,
        "set_register",
        json!({"name":"kitchen:temp","value":21.5,"metadata":{"unit":"C"},"ttl":"1h"}),
    );
    assert_eq!(set, json!({"ok": true, "version": 1}));
    let got = ok(&mut h, "get_register", json!({"name":"kitchen:temp"}));
    assert_eq!(
        got,
        json!({"registers":{"kitchen:temp":{"value":21.5,"metadata":{"unit":"C"}}}})
    );
    // Exactly what GET /consumer answers.
    assert_eq!(got, h.get("/consumer?name=kitchen%3Atemp").json_body());
    ok(
        &mut h,
        "set_register",
        json!({"name":"kitchen:lamp","value":false,"ttl":"1h"}),
    );
    let all = ok(&mut h, "list_registers", json!({}));
    assert_eq!(all["registers"].as_object().unwrap().len(), 2);
    let some = ok(
        &mut h,
        "list_registers",
        json!({"names":["kitchen:lamp","none"]}),
    );
    assert_eq!(some, json!({"registers":{"kitchen:lamp":{"value":false}}}));
    let req = ok(
        &mut h,
        "request_change",
        json!({"name":"kitchen:lamp","value":true}),
    );
    assert_eq!(req["status"], "pending");
    assert_eq!(
        h.get(&format!("/v1/requests/{}", req["request"]))
            .json_body()["status"],
        "pending"
    );
    let found = ok(
        &mut h,
        "find_entries",
        json!({"where":[".kind=register","meta.unit=C"]}),
    );
    let ids: Vec<&str> = found["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["kitchen:temp"]);
    let page = ok(&mut h, "find_entries", json!({"limit":1}));
    assert_eq!(page["next_cursor"], "kitchen:lamp");
    let next = ok(
        &mut h,
        "find_entries",
        json!({"limit":1,"cursor":"kitchen:lamp"}),
    );
    assert_eq!(next["entries"][0]["id"], "kitchen:temp");
    let tx = ok(
        &mut h,
        "transaction",
        json!({"ops":[{"op":"create","id":"app:web","kind":"svc","meta":{"depends_on":"db"},"data":{}},
                      {"op":"upsert","id":"app:db","kind":"svc","data":{"port":5432}}]}),
    );
    assert_eq!(tx["version"], 3);
    assert_eq!(tx["changeset"].as_array().unwrap().len(), 2);
    let history = ok(&mut h, "get_history", json!({"limit":2}));
    let versions: Vec<u64> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2]);
    let since = ok(&mut h, "get_history", json!({"since":2}));
    assert_eq!(since["versions"].as_array().unwrap().len(), 1);
    let one = ok(&mut h, "get_history", json!({"version":1}));
    assert_eq!(one["changeset"][0]["id"], "kitchen:temp");
    let diff = ok(&mut h, "diff_versions", json!({"from":1,"to":3}));
    assert_eq!(diff["changeset"].as_array().unwrap().len(), 3);
    let back = ok(&mut h, "rollback", json!({"to":1}));
    assert_eq!(back["version"], 4);
    assert_eq!(
        h.get("/v1/entries").json_body()["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The versions carry the API's actors: the tools are the API.
    let actors: Vec<String> = h.get("/v1/versions").json_body()["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["actor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actors, ["rollback", "api", "provider", "provider"]);
}

#[test]
fn api_errors_are_tool_errors_with_the_api_code() {
    let mut h = Harness::new();
    ok(
        &mut h,
        "transaction",
        json!({"ops":[{"op":"create","id":"a","kind":"k","data":1}]}),
    );
    let before = h.service().registry().head();
    let dup = json!({"ops":[{"op":"create","id":"a","kind":"k","data":2}]});
    let r = call(&mut h, "transaction", dup.clone());
    assert_eq!(r["isError"], true);
    // The very body the API answers.
    let api = h.call("POST", "/v1/tx", &dup.to_string());
    assert_eq!(r["structuredContent"], api.json_body());
    assert_eq!(
        error_code(
            &mut h,
            "transaction",
            json!({"ops":[{"op":"explode","id":"a"}]})
        ),
        "invalid_request"
    );
    assert_eq!(
        error_code(&mut h, "rollback", json!({"to":99})),
        "unknown_version"
    );
    assert_eq!(
        error_code(&mut h, "diff_versions", json!({"from":0,"to":99})),
        "unknown_version"
    );
    assert_eq!(
        error_code(
            &mut h,
            "set_register",
            json!({"name":"x","value":1,"ttl":"soon"})
        ),
        "invalid_request"
    );
    assert_eq!(
        error_code(&mut h, "find_entries", json!({"where":["nonsense"]})),
        "invalid_criterion"
    );
    // Arguments that do not fit the schema.
    assert_eq!(
        error_code(&mut h, "get_register", json!({})),
        "invalid_arguments"
    );
    assert_eq!(
        error_code(&mut h, "get_register", json!({"name":"x","extra":1})),
        "invalid_arguments"
    );
    assert_eq!(
        error_code(&mut h, "diff_versions", json!({"from":"one","to":2})),
        "invalid_arguments"
    );
    assert_eq!(h.service().registry().head(), before, "nothing written");
    // Tool errors are 400s like their requests: counted as bad requests.
    assert!(h.service().counters().bad_requests >= 4);
}

#[test]
fn a_transaction_held_for_validators_answers_its_tool_call() {
    let mut h = Harness::new();
    h.connect(1);
    h.send(
        1,
        json!({"type":"validate","ref":1,"validator":"v","where":[".kind=svc"]}),
    );
    assert_eq!(h.take(1)[0]["type"], "ok");
    let msg = json!({"jsonrpc":"2.0","id":"held","method":"tools/call","params":{"name":"transaction",
        "arguments":{"ops":[{"op":"create","id":"s","kind":"svc","data":{}}]}}});
    let t = h.start("POST", "/mcp", &msg.to_string());
    assert!(matches!(t, Ticket::Held(_)));
    let ask = h.take(1);
    assert_eq!(ask[0]["type"], "validate");
    h.send(
        1,
        json!({"type":"decide","tx":ask[0]["tx"],"validator":"v","accept":true}),
    );
    let r = h.result(&t).expect("decided").json_body();
    assert_eq!(r["id"], "held");
    assert_eq!(r["result"]["isError"], false);
    assert_eq!(r["result"]["structuredContent"]["version"], 1);
    assert_eq!(h.service().counters().transactions_committed, 1);
    // A rejection is a tool error with every reason.
    let msg = json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"transaction",
        "arguments":{"ops":[{"op":"create","id":"t","kind":"svc","data":{}}]}}});
    let t = h.start("POST", "/mcp", &msg.to_string());
    let ask: Vec<Value> = h
        .take(1)
        .into_iter()
        .filter(|m| m["type"] == "validate")
        .collect();
    h.send(
        1,
        json!({"type":"decide","tx":ask[0]["tx"],"validator":"v","accept":false,"reason":"frozen"}),
    );
    let r = h.result(&t).expect("decided").json_body();
    assert_eq!(r["result"]["isError"], true);
    assert_eq!(
        r["result"]["structuredContent"]["error"]["code"],
        "rejected"
    );
    assert_eq!(h.service().counters().transactions_rejected, 1);
}
