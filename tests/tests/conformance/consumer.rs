//! §1.3 `GET /consumer` and §1.4 `PUT /consumer`, with the REST tests of §5.

use registry_tests::{Harness, Ticket};
use serde_json::json;

#[test]
fn empty_registry_reads_as_empty_registers() {
    let mut h = Harness::new();
    let r = h.get("/consumer");
    assert_eq!(r.body, b"{\"registers\":{}}\n");
}

#[test]
fn single_register_with_metadata() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"temp":{"value":25.5,"metadata":{"unit":"celsius"}}}}"#,
    );
    assert_eq!(
        h.registers("name=temp"),
        json!({"temp":{"value":25.5,"metadata":{"unit":"celsius"}}})
    );
}

#[test]
fn multiple_names_return_only_those() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"temp":{"value":1},"humidity":{"value":2},"pressure":{"value":3}}}"#,
    );
    let regs = h.registers("name=temp&name=humidity");
    assert_eq!(regs, json!({"temp":{"value":1},"humidity":{"value":2}}));
}

#[test]
fn null_is_kept_and_missing_is_omitted() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"x":{"value":null}}}"#);
    let r = h.get("/consumer?name=x&name=missing");
    assert_eq!(r.body, b"{\"registers\":{\"x\":{\"value\":null}}}\n");
}

#[test]
fn empty_metadata_is_omitted() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1,"metadata":{}},"b":{"value":2,"metadata":null}}}"#,
    );
    assert_eq!(
        h.get("/consumer").body,
        b"{\"registers\":{\"a\":{\"value\":1},\"b\":{\"value\":2}}}\n"
    );
}

#[test]
fn long_poll_times_out_with_the_full_state() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1,"ttl":"1h"}}}"#);
    let start = h.now();
    let t = h.start("GET", "/consumer?name=a&wait=2s", "");
    h.advance(1_999);
    assert!(h.result(&t).is_none());
    h.advance(1);
    let (at, r) = h.answered(&t).unwrap();
    assert_eq!(at - start, 2_000);
    assert_eq!(r.json_body(), json!({"registers":{"a":{"value":1}}}));
}

#[test]
fn long_poll_wakes_at_once_on_a_change() {
    let mut h = Harness::new();
    let start = h.now();
    let t = h.start("GET", "/consumer?name=a&wait=5s", "");
    h.advance(100);
    h.put("/provider", r#"{"registers":{"a":{"value":42}}}"#);
    let (at, r) = h.answered(&t).unwrap();
    assert_eq!(at - start, 100, "woken at the instant of the change");
    assert_eq!(r.json_body(), json!({"registers":{"a":{"value":42}}}));
}

#[test]
fn long_poll_ignores_changes_of_other_names() {
    let mut h = Harness::new();
    let t = h.start("GET", "/consumer?name=a&wait=5s", "");
    h.provide("b", json!(1));
    assert!(h.result(&t).is_none());
    h.advance(5_000);
    assert_eq!(h.result(&t).unwrap().json_body(), json!({"registers":{}}));
}

#[test]
fn long_poll_without_names_wakes_on_any_change_and_returns_everything() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1,"ttl":"1h"}}}"#);
    let t = h.start("GET", "/consumer?wait=5s", "");
    h.put("/provider", r#"{"registers":{"b":{"value":2}}}"#);
    assert_eq!(
        h.result(&t).unwrap().json_body(),
        json!({"registers":{"a":{"value":1},"b":{"value":2}}})
    );
}

#[test]
fn a_change_before_the_poll_does_not_wake_it_without_since() {
    // reg has no "already changed" check; `since` (see the since module) is how to get one.
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1}}}"#);
    let t = h.start("GET", "/consumer?name=a&wait=1s", "");
    assert!(matches!(t, Ticket::Held(_)));
    h.advance(1_000);
    assert!(h.result(&t).is_some());
}

#[test]
fn several_polls_on_one_name_all_wake() {
    let mut h = Harness::new();
    let polls: Vec<Ticket> = (0..3)
        .map(|_| h.start("GET", "/consumer?name=a&wait=5s", ""))
        .collect();
    h.put("/provider", r#"{"registers":{"a":{"value":7}}}"#);
    for t in &polls {
        assert_eq!(
            h.result(t).unwrap().json_body()["registers"]["a"]["value"],
            7
        );
    }
}

#[test]
fn put_consumer_queues_a_request_for_providers() {
    let mut h = Harness::new();
    assert_eq!(
        h.put("/consumer", r#"{"registers":{"t":{"value":30}}}"#)
            .status,
        202
    );
    assert_eq!(
        h.get("/provider?name=t").json_body(),
        json!({"registers":{"t":{"value":30}}})
    );
    assert_eq!(
        h.get("/provider?name=t").json_body(),
        json!({"registers":{}})
    );
}

#[test]
fn put_consumer_validation_changes_nothing() {
    let mut h = Harness::new();
    let cases = [
        ("not json", 400, "invalid_request"),
        ("", 400, "invalid_request"),
        ("{}", 400, "registers_required"),
        (r#"{"registers":null}"#, 400, "registers_required"),
        (r#"{"registers":[]}"#, 400, "invalid_request"),
        (r#"{"registers":{"temp":5}}"#, 400, "invalid_request"),
        (r#"{"registers":{"temp":{}}}"#, 400, "value_required"),
        (
            r#"{"registers":{"ok":{"value":1},"temp":{}}}"#,
            400,
            "value_required",
        ),
        (r#"{"registers":{"temp":null}}"#, 400, "value_required"),
    ];
    for (body, status, code) in cases {
        let r = h.put("/consumer", body);
        assert_eq!(
            (r.status, r.json_body()["error"]["code"].as_str().unwrap()),
            (status, code),
            "{body}"
        );
    }
    assert_eq!(
        h.service().registry().pending_requests(),
        0,
        "nothing was queued"
    );
    assert_eq!(h.service().store().commits, 0, "nothing was written");
}

#[test]
fn null_requests_are_accepted_and_preserved() {
    let mut h = Harness::new();
    assert_eq!(
        h.put("/consumer", r#"{"registers":{"t":{"value":null}}}"#)
            .status,
        202
    );
    assert_eq!(
        h.get("/provider?name=t").body,
        b"{\"registers\":{\"t\":{\"value\":null}}}\n"
    );
}

#[test]
fn empty_request_batch_is_accepted_and_does_nothing() {
    let mut h = Harness::new();
    assert_eq!(h.put("/consumer", r#"{"registers":{}}"#).status, 202);
    assert_eq!(h.service().registry().pending_requests(), 0);
}

#[test]
fn requests_are_accepted_for_registers_that_do_not_exist() {
    let mut h = Harness::new();
    assert_eq!(
        h.put("/consumer", r#"{"registers":{"ghost":{"value":1}}}"#)
            .status,
        202
    );
    assert_eq!(
        h.get("/provider").json_body(),
        json!({"registers":{"ghost":{"value":1}}})
    );
}
