//! SPEC §5 "Limits and bad input": every bound is a clear 4xx that changes nothing.

use registry_core::Limits;
use registry_tests::{Harness, Ticket};

fn small() -> Limits {
    Limits {
        max_body_bytes: 200,
        max_entry_bytes: 50,
        max_entries: 2,
        max_names_per_request: 3,
        max_pending_requests: 2,
        max_waiters: 2,
        ..Limits::default()
    }
}

#[test]
fn wait_is_capped_at_sixty_seconds() {
    let mut h = Harness::new();
    let t = h.start("GET", "/consumer?wait=1000h", "");
    h.advance(59_999);
    assert!(h.result(&t).is_none());
    h.advance(1);
    assert_eq!(h.result(&t).unwrap().status, 200);
}

#[test]
fn oversized_bodies_are_413() {
    let mut h = Harness::with_limits(small());
    let body = format!(
        r#"{{"registers":{{"a":{{"value":"{}"}}}}}}"#,
        "x".repeat(300)
    );
    let r = h.put("/provider", &body);
    assert_eq!(
        (r.status, r.json_body()["error"]["code"].as_str().unwrap()),
        (413, "too_large")
    );
    assert_eq!(h.service().registry().len(), 0);
}

#[test]
fn oversized_entries_are_413() {
    let mut h = Harness::with_limits(small());
    let r = h.put(
        "/provider",
        &format!(
            r#"{{"registers":{{"a":{{"value":"{}"}}}}}}"#,
            "x".repeat(60)
        ),
    );
    assert_eq!(r.status, 413);
    assert_eq!(h.service().registry().len(), 0);
}

#[test]
fn too_many_names_are_413() {
    let mut h = Harness::with_limits(small());
    assert_eq!(h.get("/consumer?names=a,b,c,d").status, 413);
    assert_eq!(h.get("/provider?names=a,b,c,d").status, 413);
    let r = h.put(
        "/consumer",
        r#"{"registers":{"a":{"value":1},"b":{"value":1},"c":{"value":1},"d":{"value":1}}}"#,
    );
    assert_eq!(r.status, 413);
    assert_eq!(h.service().registry().pending_requests(), 0);
}

#[test]
fn registry_capacity_is_429_and_writes_nothing() {
    let mut h = Harness::with_limits(small());
    assert_eq!(
        h.put(
            "/provider",
            r#"{"registers":{"a":{"value":1},"b":{"value":1}}}"#
        )
        .status,
        204
    );
    let r = h.put(
        "/provider",
        r#"{"registers":{"a":{"value":2},"c":{"value":1}}}"#,
    );
    assert_eq!(
        (r.status, r.json_body()["error"]["code"].as_str().unwrap()),
        (429, "capacity_exceeded")
    );
    assert_eq!(
        h.registers("name=a")["a"]["value"],
        1,
        "the whole batch was refused"
    );
    assert_eq!(
        h.put("/provider", r#"{"registers":{"a":{"value":3}}}"#)
            .status,
        204,
        "updates still work"
    );
}

#[test]
fn pending_requests_are_bounded() {
    let mut h = Harness::with_limits(small());
    assert_eq!(
        h.put(
            "/consumer",
            r#"{"registers":{"a":{"value":1},"b":{"value":1}}}"#
        )
        .status,
        202
    );
    assert_eq!(
        h.put("/consumer", r#"{"registers":{"c":{"value":1}}}"#)
            .status,
        429
    );
    assert_eq!(
        h.put("/consumer", r#"{"registers":{"a":{"value":2}}}"#)
            .status,
        202,
        "replacing is fine"
    );
}

#[test]
fn held_long_polls_are_bounded() {
    let mut h = Harness::with_limits(small());
    assert!(matches!(
        h.start("GET", "/consumer?wait=5s", ""),
        Ticket::Held(_)
    ));
    assert!(matches!(
        h.start("GET", "/provider?wait=5s", ""),
        Ticket::Held(_)
    ));
    assert_eq!(h.get("/consumer?wait=5s").status, 429);
}

#[test]
fn a_failed_store_write_changes_nothing() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1}}}"#);
    h.service_mut().store_mut().fail_next_commit = true;
    let r = h.put("/provider", r#"{"registers":{"a":{"value":2}}}"#);
    assert_eq!(
        (r.status, r.json_body()["error"]["code"].as_str().unwrap()),
        (500, "storage_error")
    );
    assert_eq!(h.registers("name=a")["a"]["value"], 1);
    assert_eq!(h.service().registry().head(), 1);
}

/// What MemStore's injected failure says: a store's own error text, which clients must not see.
const STORE_DETAIL: &str = "injected failure";

#[test]
fn a_storage_error_tells_the_client_nothing_internal() {
    let mut h = Harness::new();
    h.service_mut().store_mut().fail_next_commit = true;
    let r = h.put("/provider", r#"{"registers":{"a":{"value":2}}}"#);
    let body = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json_body()["error"],
        serde_json::json!({"code": "storage_error",
            "message": "storage unavailable, nothing was changed; retry"})
    );
    for internal in [STORE_DETAIL, "StoreError", "file://", "    at "] {
        assert!(!body.contains(internal), "{internal:?} in {body}");
    }
    // The same over a WebSocket; the positive control is the next, successful provide.
    h.connect(1);
    h.service_mut().store_mut().fail_next_commit = true;
    for ref_no in [1, 2] {
        h.send(
            1,
            serde_json::json!({"type": "provide", "ref": ref_no, "registers": {"b": {"value": 1}}}),
        );
    }
    let replies = h.take(1);
    let text = serde_json::to_string(&replies).unwrap();
    assert!(!text.contains(STORE_DETAIL), "{text}");
    let error = replies.iter().find(|m| m["ref"] == 1).unwrap();
    assert_eq!(error["error"]["code"], "storage_error");
    assert!(replies.iter().any(|m| m["ref"] == 2 && m["type"] == "ok"));
}

#[test]
fn bad_registry_paths_are_400() {
    for path in ["/r/bad name/consumer", "/r//consumer", "/r/%zz/consumer"] {
        let err = registry_core::api::split_registry(path).unwrap_err();
        assert_eq!((err.status, err.code), (400, "invalid_registry"), "{path}");
    }
}

#[test]
fn wait_at_the_top_of_the_duration_range_is_capped_too() {
    for wait in ["9223372036854775807ns", "2562047h47m16.854775807s"] {
        let mut h = Harness::new();
        let t = h.start("GET", &format!("/consumer?wait={wait}"), "");
        h.advance(59_999);
        assert!(h.result(&t).is_none(), "{wait} answered early");
        h.advance(1);
        assert_eq!(h.result(&t).unwrap().status, 200, "{wait}");
    }
}

#[test]
fn a_duration_past_the_range_is_400_and_writes_nothing() {
    let mut h = Harness::new();
    let r = h.get("/consumer?wait=2562047h47m16.854775808s");
    assert_eq!(r.json_body()["error"]["code"], "invalid_wait");
    assert!(r.json_body()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("out of range"));
    let r = h.put(
        "/provider",
        r#"{"registers":{"far":{"value":1,"ttl":"2562047h47m16.854775808s"}}}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(h.service().registry().len(), 0);
}

#[test]
fn a_ttl_at_the_top_of_the_duration_range_is_refused_not_turned_into_the_default() {
    // It used to wrap to ≤ 0 ms and be stored with the 10 s default TTL (issue 16, item 5).
    for ttl in ["2562047h47m16.854775807s", "9223372036854775807ns"] {
        let mut h = Harness::new();
        let r = h.put(
            "/provider",
            &format!(r#"{{"registers":{{"far":{{"value":1,"ttl":"{ttl}"}}}}}}"#),
        );
        assert_eq!(r.status, 400, "{ttl}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json_body()["error"]["code"], "invalid_ttl");
        assert!(h.service().registry().get("far").is_none(), "{ttl}");
    }
}
