//! Our addition (SPEC §5): `since=<version>` on `GET /consumer` answers at once if anything named
//! changed after that version, so a change between two polls is never lost.

use registry_tests::{Harness, Ticket};

fn version(h: &mut Harness) -> u64 {
    h.get("/consumer")
        .header("x-registry-version")
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_change_between_polls_is_not_lost() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1,"ttl":"1h"}}}"#);
    let seen = version(&mut h);
    h.put("/provider", r#"{"registers":{"a":{"value":2,"ttl":"1h"}}}"#);
    let t = h.start(
        "GET",
        &format!("/consumer?name=a&wait=30s&since={seen}"),
        "",
    );
    let Ticket::Done(r) = t else {
        panic!("must answer at once")
    };
    assert_eq!(r.status, 200);
    assert_eq!(r.json_body()["registers"]["a"]["value"], 2);
}

#[test]
fn nothing_new_means_the_poll_waits() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1,"ttl":"1h"}}}"#);
    let seen = version(&mut h);
    h.put("/provider", r#"{"registers":{"b":{"value":1,"ttl":"1h"}}}"#);
    let t = h.start(
        "GET",
        &format!("/consumer?name=a&wait=30s&since={seen}"),
        "",
    );
    assert!(matches!(t, Ticket::Held(_)), "b changed, not a");
}

#[test]
fn a_deletion_after_since_answers_at_once() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1,"ttl":"1s"}}}"#);
    let seen = version(&mut h);
    h.advance(1_000);
    let t = h.start(
        "GET",
        &format!("/consumer?name=a&wait=30s&since={seen}"),
        "",
    );
    let Ticket::Done(r) = t else {
        panic!("must answer at once")
    };
    assert_eq!(r.status, 200);
    assert_eq!(r.json_body()["registers"], serde_json::json!({}));
}

#[test]
fn a_since_ahead_of_the_registry_answers_at_once() {
    let mut h = Harness::new();
    let Ticket::Done(r) = h.start("GET", "/consumer?wait=30s&since=99", "") else {
        panic!("must answer at once")
    };
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body(), serde_json::json!({"registers": {}}));
}

#[test]
fn bad_since_is_a_400() {
    let mut h = Harness::new();
    for bad in ["x", "-1", "1.5", "18446744073709551616"] {
        let r = h.get(&format!("/consumer?since={bad}"));
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json_body()["error"]["code"], "invalid_since");
    }
}
