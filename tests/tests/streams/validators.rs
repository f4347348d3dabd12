//! Remote validators take part in transactions: a verdict per validator, or the transaction
//! fails with every reason; silence past the timeout and disconnection are rejections.

use registry_tests::{Harness, Ticket};
use serde_json::{json, Value};

fn tx(id: &str, kind: &str) -> String {
    json!({"ops": [{"op": "upsert", "id": id, "kind": kind, "data": 1}]}).to_string()
}

fn validator(h: &mut Harness, conn: u64, name: &str, criteria: Value) {
    h.connect(conn);
    h.send(
        conn,
        json!({"type": "validate", "ref": 1, "validator": name, "where": criteria}),
    );
    assert_eq!(h.take(conn)[0]["type"], "ok");
}

fn asked(h: &mut Harness, conn: u64) -> Value {
    let m = h.take(conn);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["type"], "validate");
    m[0].clone()
}

#[test]
fn a_transaction_waits_for_every_matching_validator() {
    let mut h = Harness::new();
    validator(&mut h, 1, "switches", json!([".kind=switch"]));
    validator(&mut h, 2, "all", json!([]));
    // Not matching the first validator: only the second is asked.
    let t = h.start("POST", "/v1/tx", &tx("s:1", "lamp"));
    assert!(matches!(t, Ticket::Held(_)));
    assert!(h.take(1).is_empty());
    let ask = asked(&mut h, 2);
    assert_eq!(ask["ops"][0]["id"], "s:1");
    assert_eq!(ask["ops"][0]["op"], "create");
    assert_eq!(
        h.service().registry().head(),
        0,
        "nothing written while validating"
    );
    h.send(
        2,
        json!({"type": "decide", "tx": ask["tx"], "validator": "all", "accept": true}),
    );
    assert_eq!(h.take(2)[0]["type"], "ok");
    let r = h.result(&t).expect("all decided");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body()["version"], 1);

    // Both asked; one rejects: 422 with its reason, nothing written.
    let t = h.start("POST", "/v1/tx", &tx("s:2", "switch"));
    let a1 = asked(&mut h, 1);
    let a2 = asked(&mut h, 2);
    h.send(1, json!({"type": "decide", "tx": a1["tx"], "validator": "switches", "accept": false, "reason": "maintenance"}));
    assert!(h.result(&t).is_none(), "waits for the other verdict");
    h.send(
        2,
        json!({"type": "decide", "tx": a2["tx"], "validator": "all", "accept": true}),
    );
    let r = h.result(&t).unwrap();
    assert_eq!(r.status, 422);
    let reasons = &r.json_body()["error"]["reasons"];
    assert_eq!(reasons[0]["listener"], "validator:switches");
    assert_eq!(reasons[0]["reason"], "maintenance");
    assert_eq!(h.service().registry().head(), 1);
    assert!(h.service().registry().get("s:2").is_none());
}

#[test]
fn silence_until_the_timeout_and_disconnection_reject() {
    let mut h = Harness::new();
    let cfg = json!({"config": {"validator_timeout_ms": 2000}}).to_string();
    assert_eq!(h.call("PUT", "/v1/config", &cfg).status, 200);
    let head = h.service().registry().head();
    validator(&mut h, 1, "slow", json!([]));
    let t = h.start("PUT", "/v1/entries/x", r#"{"kind":"k","data":1}"#);
    assert_eq!(asked(&mut h, 1)["deadline"], registry_tests::EPOCH + 2000);
    h.advance(1999);
    assert!(h.result(&t).is_none());
    h.advance(1);
    let (at, r) = h.answered(&t).unwrap();
    assert_eq!((at, r.status), (registry_tests::EPOCH + 2000, 422));
    assert!(r.json_body()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no verdict within 2000 ms"));
    // A late verdict is refused.
    h.send(
        1,
        json!({"type": "decide", "ref": 5, "tx": 1, "validator": "slow", "accept": true}),
    );
    assert_eq!(h.take(1)[0]["error"]["code"], "not_awaited");

    let t = h.start("DELETE", "/v1/entries/nothing", "");
    assert_eq!(
        h.result(&t).unwrap().status,
        404,
        "bad input is refused before validation"
    );
    let t = h.start("PUT", "/v1/entries/y", r#"{"kind":"k","data":1}"#);
    asked(&mut h, 1);
    h.disconnect(1);
    let r = h.result(&t).unwrap();
    assert_eq!(r.status, 422);
    assert!(r.json_body()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disconnected"));
    assert_eq!(h.service().registry().head(), head);
}

#[test]
fn an_entry_changed_while_validating_is_a_conflict() {
    let mut h = Harness::new();
    validator(&mut h, 1, "v", json!([".kind=k"]));
    let t = h.start("POST", "/v1/tx", &tx("a", "k"));
    let ask = asked(&mut h, 1);
    // Meanwhile a register API write creates the same id (providers skip listeners).
    h.put("/provider", r#"{"registers":{"a":{"value":0}}}"#);
    h.send(
        1,
        json!({"type": "decide", "tx": ask["tx"], "validator": "v", "accept": true}),
    );
    let r = h.result(&t).unwrap();
    assert_eq!(r.status, 409);
    assert_eq!(r.json_body()["error"]["reasons"][0]["id"], "a");
    assert_eq!(h.service().registry().get("a").unwrap().kind, "register");
}
