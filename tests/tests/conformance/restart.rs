//! Persistence: everything survives a restart of the host (reload from the store), and loading
//! creates no version.

use registry_tests::Harness;
use serde_json::json;

#[test]
fn registers_requests_and_versions_survive_a_restart() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1.50,"metadata":{"u":"C"},"ttl":"1h"}}}"#,
    );
    h.put("/consumer", r#"{"registers":{"a":{"value":2}}}"#);
    let head = h.service().registry().head();
    h.restart();
    assert_eq!(
        h.service().registry().head(),
        head,
        "loading makes no version"
    );
    assert_eq!(
        h.get("/consumer").body,
        b"{\"registers\":{\"a\":{\"metadata\":{\"u\":\"C\"},\"value\":1.50}}}\n"
    );
    assert_eq!(
        h.get("/provider").json_body(),
        json!({"registers":{"a":{"value":2}}})
    );
}

#[test]
fn expiry_continues_after_a_restart() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1,"ttl":"5s"}}}"#);
    h.advance(3_000);
    h.restart();
    h.advance(1_999);
    assert_eq!(h.service().registry().len(), 1);
    h.advance(1);
    assert_eq!(h.service().registry().len(), 0);
}

#[test]
fn held_polls_are_lost_with_their_connections_but_requests_stay_pending() {
    let mut h = Harness::new();
    let t = h.start("GET", "/provider?name=a&wait=30s", "");
    h.restart();
    assert!(h.was_lost(&t));
    h.put("/consumer", r#"{"registers":{"a":{"value":1}}}"#);
    assert_eq!(
        h.get("/provider").json_body(),
        json!({"registers":{"a":{"value":1}}})
    );
}

#[test]
fn request_ids_keep_increasing_after_a_restart() {
    let mut h = Harness::new();
    h.put("/consumer", r#"{"registers":{"a":{"value":1}}}"#);
    let first = h.service().registry().pending_request("a").unwrap().id;
    h.restart();
    h.put("/consumer", r#"{"registers":{"b":{"value":1}}}"#);
    assert!(h.service().registry().pending_request("b").unwrap().id > first);
}
