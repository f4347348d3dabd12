//! A store write that fails while long polls, transactions and sockets are held: nothing is
//! lost or confused, and the registry recovers by itself once the store works again.

use registry_tests::{Harness, Ticket};
use serde_json::json;

fn fail_next(h: &mut Harness) {
    h.service_mut().store_mut().fail_next_commit = true;
}

fn held(t: &Ticket) -> u64 {
    match t {
        Ticket::Held(id) => *id,
        Ticket::Done(r) => panic!("answered at once: {}", r.status),
    }
}

#[test]
fn held_long_polls_finish_normally_after_a_failed_write() {
    let mut h = Harness::new();
    let first = h.start("GET", "/consumer?name=a&wait=30s", "");
    let first_id = held(&first);
    fail_next(&mut h);
    let r = h.put("/provider", r#"{"registers":{"a":{"value":1}}}"#);
    assert_eq!(r.status, 500);
    assert_eq!(r.json_body()["error"]["code"], "storage_error");
    assert!(h.result(&first).is_none(), "a failed write wakes nobody");
    // A poll made after the failure gets a waiter id of its own.
    let second = h.start("GET", "/consumer?name=a&wait=30s", "");
    assert_ne!(held(&second), first_id, "waiter ids are never reused");
    h.provide("a", json!(2));
    for t in [&first, &second] {
        let r = h.result(t).expect("woken by the write");
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json_body()["registers"]["a"]["value"], 2);
    }
    // A poll that times out after a failure answers the current state too.
    let third = h.start("GET", "/consumer?name=a&wait=5s", "");
    fail_next(&mut h);
    assert_eq!(
        h.put("/provider", r#"{"registers":{"a":{"value":3}}}"#)
            .status,
        500
    );
    h.advance(5_000);
    let r = h.result(&third).expect("timed out");
    assert_eq!(r.status, 200);
    assert_eq!(r.json_body()["registers"]["a"]["value"], 2);
}

#[test]
fn a_transaction_held_for_validators_survives_a_failed_write() {
    let mut h = Harness::new();
    h.connect(1);
    h.send(
        1,
        json!({"type":"validate","ref":1,"validator":"v","where":[".kind=svc"]}),
    );
    h.take(1);
    let body = json!({"ops":[{"op":"upsert","id":"t:1","kind":"svc","data":1}]}).to_string();
    let t = h.start("POST", "/v1/tx", &body);
    held(&t);
    let ask = h.take(1);
    fail_next(&mut h);
    assert_eq!(
        h.put("/provider", r#"{"registers":{"b":{"value":1}}}"#)
            .status,
        500
    );
    // A long poll started now must not take over the transaction's waiter.
    let poll = h.start("GET", "/consumer?name=b&wait=30s", "");
    held(&poll);
    h.send(
        1,
        json!({"type":"decide","tx":ask[0]["tx"],"validator":"v","accept":true}),
    );
    let r = h.result(&t).expect("decided");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(h.result(&poll).is_none(), "the poll is still held");
    assert_eq!(h.service().registry().get("t:1").unwrap().data, json!(1));
}

#[test]
fn a_registry_recovers_by_itself_once_the_store_works_again() {
    let mut h = Harness::new();
    h.provide("a", json!(1));
    h.service_mut().store_mut().broken = true;
    let r = h.put("/provider", r#"{"registers":{"a":{"value":2}}}"#);
    assert_eq!(r.status, 500);
    // While the store cannot be read, the registry says so.
    let r = h.get("/v1/health");
    assert_eq!(r.status, 500);
    assert_eq!(r.json_body()["error"]["code"], "storage_error");
    h.service_mut().store_mut().broken = false;
    assert_eq!(h.get("/v1/health").status, 200);
    h.provide("a", json!(3));
    assert_eq!(h.registers("name=a")["a"]["value"], 3);
}

#[test]
fn a_session_watching_ten_thousand_names_survives_hibernation() {
    let mut h = Harness::new();
    h.connect(1);
    for w in 0..10 {
        let names: Vec<String> = (0..1000).map(|i| format!("n{}", w * 1000 + i)).collect();
        h.send(
            1,
            json!({"type":"watch","ref":w,"watch":format!("w{w}"),"names":names}),
        );
    }
    assert!(h.take(1).iter().all(|m| m["type"] != "error"));
    h.hibernate();
    assert!(!h.was_closed(1));
    h.provide("n9999", json!(true));
    let m = h.take(1);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["watch"], "w9");
    assert_eq!(m[0]["ops"][0]["id"], "n9999");
}

#[test]
fn a_session_that_cannot_be_saved_is_closed_not_silently_lost() {
    let mut h = Harness::new();
    h.connect(1);
    h.connect(2);
    // Positive control: saved fine, stays open.
    h.send(1, json!({"type":"watch","ref":1,"watch":"w","names":["a"]}));
    assert!(!h.was_closed(1));
    h.service_mut().store_mut().broken = true;
    h.send(2, json!({"type":"watch","ref":1,"watch":"w","names":["a"]}));
    assert!(h.was_closed(2), "the client must reconnect and resume");
    assert!(!h.was_closed(1));
}
