//! §1.5 `PUT /provider` and §1.6 `GET /provider`, with the REST tests of §5.

use registry_tests::{Harness, Ticket};
use serde_json::json;

#[test]
fn put_provider_creates_and_updates() {
    let mut h = Harness::new();
    assert_eq!(
        h.put("/provider", r#"{"registers":{"temp":{"value":20}}}"#)
            .status,
        204
    );
    assert_eq!(
        h.put("/provider", r#"{"registers":{"temp":{"value":25}}}"#)
            .status,
        204
    );
    assert_eq!(h.registers("name=temp"), json!({"temp":{"value":25}}));
}

#[test]
fn metadata_is_replaced_and_cleared_when_omitted() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"t":{"value":1,"metadata":{"a":1,"b":2}}}}"#,
    );
    h.put(
        "/provider",
        r#"{"registers":{"t":{"value":1,"metadata":{"c":3}}}}"#,
    );
    assert_eq!(
        h.registers("name=t"),
        json!({"t":{"value":1,"metadata":{"c":3}}})
    );
    h.put("/provider", r#"{"registers":{"t":{"value":1}}}"#);
    assert_eq!(h.registers("name=t"), json!({"t":{"value":1}}));
}

#[test]
fn put_provider_validation_changes_nothing() {
    let mut h = Harness::new();
    let cases = [
        ("invalid json", "invalid_request"),
        ("", "invalid_request"),
        ("{}", "registers_required"),
        (r#"{"registers":null}"#, "registers_required"),
        (r#"{"registers":{"t":{}}}"#, "value_required"),
        (
            r#"{"registers":{"ok":{"value":1},"t":{}}}"#,
            "value_required",
        ),
        (
            r#"{"registers":{"t":{"value":1,"ttl":"abc"}}}"#,
            "invalid_request",
        ),
        (
            r#"{"registers":{"t":{"value":1,"ttl":10}}}"#,
            "invalid_request",
        ),
        (
            r#"{"registers":{"t":{"value":1,"ttl":""}}}"#,
            "invalid_request",
        ),
        (
            r#"{"registers":{"t":{"value":1,"ttl":null}}}"#,
            "invalid_request",
        ),
        (
            r#"{"registers":{"t":{"value":1,"metadata":[]}}}"#,
            "invalid_request",
        ),
        (
            r#"{"registers":{"t":{"value":1,"metadata":"x"}}}"#,
            "invalid_request",
        ),
        (
            r#"{"registers":{"ok":{"value":1},"t":{"value":1,"metadata":5}}}"#,
            "invalid_request",
        ),
    ];
    for (body, code) in cases {
        let r = h.put("/provider", body);
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json_body()["error"]["code"], code, "{body}");
    }
    assert_eq!(h.registers(""), json!({}), "nothing was created");
    assert_eq!(h.service().store().commits, 0, "nothing was written");
    assert_eq!(h.service().registry().head(), 0);
}

#[test]
fn null_values_are_stored() {
    let mut h = Harness::new();
    assert_eq!(
        h.put(
            "/provider",
            r#"{"registers":{"t":{"value":null,"ttl":"10s"}}}"#
        )
        .status,
        204
    );
    assert_eq!(
        h.get("/consumer").body,
        b"{\"registers\":{\"t\":{\"value\":null}}}\n"
    );
}

#[test]
fn an_empty_batch_is_accepted_and_does_nothing() {
    let mut h = Harness::new();
    assert_eq!(h.put("/provider", r#"{"registers":{}}"#).status, 204);
    assert_eq!(h.service().registry().head(), 0);
}

#[test]
fn get_provider_takes_pending_requests_once() {
    let mut h = Harness::new();
    h.put(
        "/consumer",
        r#"{"registers":{"t":{"value":30},"u":{"value":1}}}"#,
    );
    assert_eq!(
        h.get("/provider?name=t").json_body(),
        json!({"registers":{"t":{"value":30}}})
    );
    assert_eq!(
        h.get("/provider?name=t").json_body(),
        json!({"registers":{}})
    );
    assert_eq!(
        h.service().registry().pending_requests(),
        1,
        "u is still pending"
    );
}

#[test]
fn latest_request_wins() {
    let mut h = Harness::new();
    h.put("/consumer", r#"{"registers":{"t":{"value":20}}}"#);
    h.put("/consumer", r#"{"registers":{"t":{"value":30}}}"#);
    assert_eq!(
        h.get("/provider?name=t").json_body(),
        json!({"registers":{"t":{"value":30}}})
    );
}

#[test]
fn get_provider_without_names_takes_every_request() {
    let mut h = Harness::new();
    h.put(
        "/consumer",
        r#"{"registers":{"a":{"value":1},"b":{"value":2}}}"#,
    );
    assert_eq!(
        h.get("/provider").json_body(),
        json!({"registers":{"a":{"value":1},"b":{"value":2}}})
    );
    assert_eq!(h.service().registry().pending_requests(), 0);
}

#[test]
fn an_already_pending_request_returns_at_once_despite_a_long_wait() {
    let mut h = Harness::new();
    h.put("/consumer", r#"{"registers":{"t":{"value":5}}}"#);
    let t = h.start("GET", "/provider?name=t&wait=1h", "");
    assert!(matches!(t, Ticket::Done(_)));
    assert_eq!(
        h.result(&t).unwrap().json_body(),
        json!({"registers":{"t":{"value":5}}})
    );
}

#[test]
fn provider_long_poll_receives_a_later_request() {
    let mut h = Harness::new();
    let start = h.now();
    let t = h.start("GET", "/provider?name=t&wait=30s", "");
    h.advance(50);
    h.put("/consumer", r#"{"registers":{"t":{"value":30}}}"#);
    let (at, r) = h.answered(&t).unwrap();
    assert_eq!(at - start, 50);
    assert_eq!(r.json_body(), json!({"registers":{"t":{"value":30}}}));
    assert_eq!(h.service().registry().pending_requests(), 0, "consumed");
}

#[test]
fn provider_long_poll_times_out_empty() {
    let mut h = Harness::new();
    let t = h.start("GET", "/provider?name=t&wait=200ms", "");
    h.put("/consumer", r#"{"registers":{"other":{"value":1}}}"#);
    h.advance(200);
    assert_eq!(h.result(&t).unwrap().json_body(), json!({"registers":{}}));
    assert_eq!(h.service().registry().pending_requests(), 1);
}

#[test]
fn two_pollers_on_one_name_one_wins_the_other_returns_empty_early() {
    let mut h = Harness::new();
    let a = h.start("GET", "/provider?name=t&wait=30s", "");
    let b = h.start("GET", "/provider?name=t&wait=30s", "");
    h.put("/consumer", r#"{"registers":{"t":{"value":1}}}"#);
    let ra = h.result(&a).unwrap().json_body();
    let rb = h.result(&b).unwrap().json_body();
    let got: Vec<bool> = [&ra, &rb]
        .iter()
        .map(|r| r["registers"].get("t").is_some())
        .collect();
    assert_eq!(
        got.iter().filter(|g| **g).count(),
        1,
        "exactly one poll got the request: {ra} {rb}"
    );
}

#[test]
fn the_newest_poll_for_a_name_takes_the_request() {
    let mut h = Harness::new();
    let old = h.start("GET", "/provider?name=t&wait=30s", "");
    h.advance(10);
    let new = h.start("GET", "/provider?name=t&name=u&wait=30s", "");
    h.put("/consumer", r#"{"registers":{"t":{"value":1}}}"#);
    assert_eq!(
        h.result(&new).unwrap().json_body(),
        json!({"registers":{"t":{"value":1}}})
    );
    assert_eq!(h.result(&old).unwrap().json_body(), json!({"registers":{}}));
}

#[test]
fn null_change_requests_are_preserved() {
    let mut h = Harness::new();
    let t = h.start("GET", "/provider?name=t&wait=30s", "");
    h.put("/consumer", r#"{"registers":{"t":{"value":null}}}"#);
    assert_eq!(
        h.result(&t).unwrap().body,
        b"{\"registers\":{\"t\":{\"value\":null}}}\n"
    );
}
