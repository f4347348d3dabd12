//! Checks and policy of the write pipeline, each against the defect it fixes.

use registry_tests::{Harness, Ticket};
use serde_json::{json, Value};

fn tx(h: &mut Harness, body: Value) -> (u16, Value) {
    let r = h.call("POST", "/v1/tx", &body.to_string());
    (r.status, r.json_body())
}

fn svc(id: &str, deps: &[&str]) -> Value {
    json!({"op": "upsert", "id": id, "kind": "svc", "meta": {"depends_on": deps}, "data": {}})
}

#[test]
fn a_transaction_may_write_null_data_like_put_does() {
    let mut h = Harness::new();
    let (status, body) = tx(
        &mut h,
        json!({"ops":[{"op":"create","id":"t:n","kind":"k","data":null}]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(h.get("/v1/entries/t:n").json_body()["data"], Value::Null);
    // Missing data is still refused.
    let (status, body) = tx(
        &mut h,
        json!({"ops":[{"op":"create","id":"t:m","kind":"k"}]}),
    );
    assert_eq!(status, 400, "{body}");
}

#[test]
fn a_cycle_closed_by_updating_an_existing_entry_is_refused_and_history_stays_restorable() {
    let mut h = Harness::new();
    assert_eq!(
        tx(
            &mut h,
            json!({"ops":[svc("c:a", &[]), svc("c:b", &["c:a"])]})
        )
        .0,
        200
    );
    // Positive control: an update that keeps the graph acyclic commits.
    assert_eq!(tx(&mut h, json!({"ops":[svc("c:c", &["c:b"])]})).0, 200);
    let head = h.service().registry().head();
    let (status, body) = tx(&mut h, json!({"ops":[svc("c:a", &["c:c"])]}));
    assert_eq!(status, 422, "{body}");
    let reason = body["error"]["reasons"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("cycle"), "{reason}");
    assert!(reason.contains("c:a") && reason.contains("c:b") && reason.contains("c:c"));
    assert_eq!(h.service().registry().head(), head, "nothing written");
    // The same through PUT /v1/entries (a one-operation transaction).
    let r = h.put(
        "/v1/entries/c:a",
        &json!({"kind":"svc","meta":{"depends_on":["c:b"]},"data":{}}).to_string(),
    );
    assert_eq!(r.status, 422);
    let r = h.call("POST", "/v1/rollback", r#"{"to":0}"#);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(h.service().registry().len(), 0);
}

#[test]
fn a_listener_rejection_still_asks_the_validators_and_returns_every_reason() {
    let mut h = Harness::new();
    h.connect(1);
    h.send(
        1,
        json!({"type":"validate","ref":1,"validator":"all","where":[]}),
    );
    assert_eq!(h.take(1)[0]["type"], "ok");
    // Depends on an entry that does not exist: the dependency-integrity listener rejects.
    let t = h.start(
        "POST",
        "/v1/tx",
        &json!({"ops":[svc("x:web", &["x:db"])]}).to_string(),
    );
    assert!(
        matches!(t, Ticket::Held(_)),
        "the validator is asked all the same"
    );
    let ask = h.take(1);
    assert_eq!(ask[0]["type"], "validate");
    h.send(
        1,
        json!({"type":"decide","tx":ask[0]["tx"],"validator":"all","accept":false,"reason":"frozen"}),
    );
    let r = h.result(&t).expect("decided");
    assert_eq!(r.status, 422);
    let reasons = r.json_body()["error"]["reasons"].clone();
    let listeners: Vec<&str> = reasons
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["listener"].as_str().unwrap())
        .collect();
    assert_eq!(listeners, ["dependency-integrity", "validator:all"]);
    assert_eq!(h.service().registry().head(), 0);
}

#[test]
fn a_rollback_is_offered_to_the_validators() {
    let mut h = Harness::new();
    h.provide("r:a", json!(1));
    h.connect(1);
    h.send(
        1,
        json!({"type":"validate","ref":1,"validator":"v","where":[".id=r:a"]}),
    );
    h.take(1);
    let t = h.start("POST", "/v1/rollback", r#"{"to":0}"#);
    assert!(matches!(t, Ticket::Held(_)));
    let ask = h.take(1);
    assert_eq!(ask[0]["ops"][0]["op"], "delete");
    h.send(
        1,
        json!({"type":"decide","tx":ask[0]["tx"],"validator":"v","accept":false,"reason":"no"}),
    );
    assert_eq!(h.result(&t).unwrap().status, 422);
    assert!(h.service().registry().get("r:a").is_some());
}

#[test]
fn a_ttl_beyond_the_alarm_range_is_refused_on_every_route() {
    let mut h = Harness::new();
    let far = "2200000h";
    let r = h.put(
        "/provider",
        &json!({"registers":{"far":{"value":1,"ttl":far}}}).to_string(),
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body()["error"]["code"], "invalid_ttl");
    let r = h.put(
        "/v1/entries/far",
        &json!({"kind":"k","data":1,"ttl":far}).to_string(),
    );
    assert_eq!(r.status, 400);
    let (status, _) = tx(
        &mut h,
        json!({"ops":[{"op":"create","id":"far","kind":"k","data":1,"ttl":far}]}),
    );
    assert_eq!(status, 400);
    h.connect(1);
    h.send(
        1,
        json!({"type":"provide","ref":1,"registers":{"far":{"value":1,"ttl":far}}}),
    );
    assert_eq!(h.take(1)[0]["error"]["code"], "invalid_ttl");
    assert_eq!(h.service().registry().len(), 0);
    assert_eq!(h.get("/v1/health").status, 200);
    // Positive control: a long TTL inside the bound is accepted.
    let r = h.put(
        "/provider",
        &json!({"registers":{"far":{"value":1,"ttl":"80000h"}}}).to_string(),
    );
    assert_eq!(r.status, 204);
}

#[test]
fn change_requests_are_bounded_like_registers() {
    let mut h = Harness::new();
    let big = "x".repeat(70 << 10);
    let r = h.put(
        "/consumer",
        &json!({"registers":{"a":{"value":big}}}).to_string(),
    );
    assert_eq!(r.status, 413, "{}", String::from_utf8_lossy(&r.body));
    let long_name = "n".repeat(70 << 10);
    let r = h.call(
        "POST",
        "/v1/requests",
        &json!({"name": long_name, "value": 1}).to_string(),
    );
    assert_eq!(r.status, 413);
    h.connect(1);
    h.send(
        1,
        json!({"type":"request","ref":1,"name":"a","value":"x".repeat(70 << 10)}),
    );
    assert_eq!(h.take(1)[0]["error"]["code"], "too_large");
    // In all: 4 MiB of pending requests, then 429.
    let value = "v".repeat(60 << 10);
    let mut accepted = 0;
    let status = loop {
        let r = h.put(
            "/consumer",
            &json!({"registers":{format!("r{accepted}"):{"value":value}}}).to_string(),
        );
        if r.status != 202 {
            break r.status;
        }
        accepted += 1;
    };
    assert_eq!(status, 429);
    assert!(
        (60..=70).contains(&accepted),
        "{accepted} requests of 60 KiB held"
    );
    assert_eq!(h.service().registry().pending_requests(), accepted);
}
