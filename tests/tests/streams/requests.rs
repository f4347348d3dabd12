//! Change requests with ids and outcomes, over streams and over `/v1/requests`.

use registry_tests::{Harness, Ticket};
use serde_json::{json, Value};

fn only(msgs: Vec<Value>, kind: &str) -> Value {
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["type"], kind, "{msgs:?}");
    msgs.into_iter().next().unwrap()
}

fn provider_and_consumer(h: &mut Harness) {
    h.connect(1);
    h.send(1, json!({"type": "provide", "registers": {"lamp": {"value": false, "metadata": {"room": "hall"}, "ttl": "1h"}}}));
    assert_eq!(only(h.take(1), "ok")["version"], 1);
    h.connect(2);
}

#[test]
fn accept_and_apply_sets_the_register_and_tells_the_requester() {
    let mut h = Harness::new();
    provider_and_consumer(&mut h);
    h.send(
        2,
        json!({"type": "request", "ref": "r1", "name": "lamp", "value": true}),
    );
    let ok = only(h.take(2), "ok");
    assert_eq!(ok["ref"], "r1");
    let id = ok["request"].as_u64().unwrap();
    assert_eq!(ok["status"], "delivered"); // handed to the providing socket at once
    let req = only(h.take(1), "request");
    assert_eq!(
        req,
        json!({"type": "request", "request": id, "name": "lamp", "value": true})
    );
    assert_eq!(
        h.get(&format!("/v1/requests/{id}")).json_body()["status"],
        "delivered"
    );

    h.send(
        1,
        json!({"type": "verdict", "request": id, "accept": true, "apply": true}),
    );
    assert_eq!(only(h.take(1), "ok")["status"], "accepted");
    let out = only(h.take(2), "outcome");
    assert_eq!(out["status"], "accepted");
    assert_eq!(out["request"], id);
    let regs = h.registers("name=lamp");
    assert_eq!(regs["lamp"]["value"], true);
    assert_eq!(regs["lamp"]["metadata"]["room"], "hall", "metadata kept");
    // A second verdict is refused and changes nothing.
    let head = h.service().registry().head();
    h.send(
        1,
        json!({"type": "verdict", "ref": 2, "request": id, "accept": false}),
    );
    assert_eq!(
        only(h.take(1), "error")["error"]["code"],
        "request_finished"
    );
    assert_eq!(h.service().registry().head(), head);
}

#[test]
fn reject_superseded_and_expired_outcomes() {
    let mut h = Harness::new();
    provider_and_consumer(&mut h);
    h.send(2, json!({"type": "request", "name": "lamp", "value": 1}));
    let id = only(h.take(2), "ok")["request"].as_u64().unwrap();
    h.take(1);
    h.send(
        1,
        json!({"type": "verdict", "request": id, "accept": false, "reason": "busy"}),
    );
    h.take(1);
    let out = only(h.take(2), "outcome");
    assert_eq!(
        (out["status"].as_str(), out["reason"].as_str()),
        (Some("rejected"), Some("busy"))
    );

    // No provider for "fan": the first request is superseded by the second, which expires.
    h.send(2, json!({"type": "request", "name": "fan", "value": 1}));
    let first = only(h.take(2), "ok")["request"].as_u64().unwrap();
    h.send(2, json!({"type": "request", "name": "fan", "value": 2}));
    let msgs = h.take(2);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    let second = msgs.iter().find(|m| m["type"] == "ok").unwrap()["request"]
        .as_u64()
        .unwrap();
    let sup = msgs.iter().find(|m| m["type"] == "outcome").unwrap();
    assert_eq!(
        (sup["request"].as_u64(), sup["status"].as_str()),
        (Some(first), Some("superseded"))
    );
    h.advance(60_000);
    let out = only(h.take(2), "outcome");
    assert_eq!(
        (out["request"].as_u64(), out["status"].as_str()),
        (Some(second), Some("expired"))
    );

    // Delivered but never answered: expires too.
    h.send(2, json!({"type": "request", "name": "lamp", "value": 7}));
    let id = only(h.take(2), "ok")["request"].as_u64().unwrap();
    h.advance(59_999);
    assert!(h.take(2).is_empty());
    h.advance(1);
    let out = only(h.take(2), "outcome");
    assert_eq!(
        (out["request"].as_u64(), out["status"].as_str()),
        (Some(id), Some("expired"))
    );
}

#[test]
fn http_requests_with_wait_and_a_reg_provider_accepting_implicitly() {
    let mut h = Harness::new();
    let r = h.call("POST", "/v1/requests", r#"{"name":"temp","value":21.5}"#);
    assert_eq!(r.status, 202);
    let id = r.json_body()["request"].as_u64().unwrap();
    assert_eq!(r.json_body()["status"], "pending");
    let wait = h.start("GET", &format!("/v1/requests/{id}?wait=30s"), "");
    assert!(matches!(wait, Ticket::Held(_)));
    // A reg provider takes it (ids in X-Request-Ids) and publishes the requested value.
    let taken = h.get("/provider?name=temp");
    assert_eq!(taken.json_body()["registers"]["temp"]["value"], 21.5);
    assert_eq!(
        taken.header("x-request-ids"),
        Some(format!("{{\"temp\":{id}}}").as_str())
    );
    assert!(h.result(&wait).is_none(), "delivered is not final");
    h.put("/provider", r#"{"registers":{"temp":{"value":21.5}}}"#);
    let done = h.result(&wait).expect("accepted wakes the waiter");
    assert_eq!(done.json_body()["status"], "accepted");

    // Explicit verdicts over HTTP.
    let id2 = h
        .call("POST", "/v1/requests", r#"{"name":"temp","value":3}"#)
        .json_body()["request"]
        .as_u64()
        .unwrap();
    let v = h.call(
        "POST",
        &format!("/v1/requests/{id2}/verdict"),
        r#"{"accept":false,"reason":"too cold"}"#,
    );
    assert_eq!(v.status, 200);
    assert_eq!(v.json_body()["status"], "rejected");
    assert_eq!(
        h.call(
            "POST",
            &format!("/v1/requests/{id2}/verdict"),
            r#"{"accept":true}"#
        )
        .status,
        409
    );
    // Bad input: clear errors, nothing changes.
    let head = h.service().registry().head();
    assert_eq!(h.get("/v1/requests/abc").status, 400);
    assert_eq!(h.get("/v1/requests/999").status, 404);
    assert_eq!(
        h.call("POST", "/v1/requests", r#"{"name":"x"}"#).status,
        400
    );
    assert_eq!(
        h.call(
            "POST",
            &format!("/v1/requests/{id2}/verdict"),
            r#"{"accept":"yes"}"#
        )
        .status,
        400
    );
    assert_eq!(h.call("DELETE", "/v1/requests", "").status, 405);
    assert_eq!(h.service().registry().head(), head);
    // Outcomes survive a restart.
    h.restart();
    assert_eq!(
        h.get(&format!("/v1/requests/{id2}")).json_body()["reason"],
        "too cold"
    );
}

#[test]
fn finished_outcomes_are_bounded() {
    let mut h = Harness::new();
    let mut first = None;
    for i in 0..(registry_core::requests::MAX_FINISHED + 5) {
        let body = json!({"name": "n", "value": i}).to_string();
        let id = h.call("POST", "/v1/requests", &body).json_body()["request"]
            .as_u64()
            .unwrap();
        first.get_or_insert(id);
    }
    // Every request but the last was superseded; only the newest outcomes are kept.
    assert_eq!(
        h.get(&format!("/v1/requests/{}", first.unwrap())).status,
        404
    );
    let kept = h.get(&format!("/v1/requests/{}", first.unwrap() + 10));
    assert_eq!(kept.json_body()["status"], "superseded");
}
