//! §2 core semantics and the Go core tests of §5 (`internal/registry/core_test.go`), through the
//! API layer.

use registry_core::Limits;
use registry_tests::Harness;
use serde_json::json;

#[test]
fn set_register_then_read_it() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"temp":{"value":25.5,"metadata":{"unit":"celsius"}}}}"#,
    );
    assert_eq!(
        h.registers(""),
        json!({"temp":{"value":25.5,"metadata":{"unit":"celsius"}}})
    );
}

#[test]
fn creating_a_null_register_notifies() {
    let mut h = Harness::new();
    let t = h.start("GET", "/consumer?name=n&wait=5s", "");
    h.put("/provider", r#"{"registers":{"n":{"value":null}}}"#);
    assert_eq!(
        h.result(&t).unwrap().json_body(),
        json!({"registers":{"n":{"value":null}}})
    );
}

#[test]
fn value_change_bumps_the_version_and_refresh_does_not() {
    let mut h = Harness::new();
    let v = |h: &mut Harness| {
        h.get("/consumer")
            .header("x-registry-version")
            .unwrap()
            .to_string()
    };
    assert_eq!(v(&mut h), "0");
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1},"b":{"value":2}}}"#,
    );
    assert_eq!(v(&mut h), "1", "one version per PUT, whatever it touches");
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1},"b":{"value":2}}}"#,
    );
    assert_eq!(v(&mut h), "1", "a refresh makes no version");
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1},"b":{"value":3}}}"#,
    );
    assert_eq!(v(&mut h), "2");
    assert_eq!(h.service().registry().get("a").unwrap().version, 1);
    assert_eq!(h.service().registry().get("b").unwrap().version, 2);
}

#[test]
fn omitted_and_empty_metadata_are_the_same_so_alternating_does_not_notify() {
    // reg's DeepEqual(nil, {}) makes this a spurious change; we treat them as equal.
    let mut h = Harness::new();
    h.provide("a", json!(1));
    let t = h.start("GET", "/consumer?name=a&wait=1s", "");
    let r = h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1,"metadata":{}}}}"#,
    );
    assert_eq!(r.status, 204, "the write was accepted");
    assert!(h.result(&t).is_none());
}

#[test]
fn object_values_compare_deeply() {
    let mut h = Harness::new();
    h.provide("o", json!({"a": [1, 2], "b": {"c": null}}));
    let t = h.start("GET", "/consumer?name=o&wait=1s", "");
    let r = h.put(
        "/provider",
        r#"{"registers":{"o":{"value":{"b":{"c":null},"a":[1,2]}}}}"#,
    );
    assert_eq!(r.status, 204, "the write was accepted");
    assert!(
        h.result(&t).is_none(),
        "same object, other key order: no change"
    );
    h.put(
        "/provider",
        r#"{"registers":{"o":{"value":{"b":{"c":null},"a":[2,1]}}}}"#,
    );
    assert!(h.result(&t).is_some());
}

#[test]
fn expiry_is_exact_and_needs_no_traffic() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1,"ttl":"100ms"}}}"#,
    );
    h.advance(99);
    assert_eq!(h.service().registry().len(), 1);
    h.advance(1);
    assert_eq!(
        h.service().registry().len(),
        0,
        "the alarm alone expired it"
    );
    assert_eq!(h.service().registry().head(), 2, "an expiry is a version");
}

#[test]
fn pending_requests_survive_the_expiry_of_their_register() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1,"ttl":"100ms"}}}"#,
    );
    h.put("/consumer", r#"{"registers":{"a":{"value":2}}}"#);
    h.advance(200);
    assert_eq!(
        h.get("/provider?name=a").json_body(),
        json!({"registers":{"a":{"value":2}}})
    );
}

#[test]
fn change_requests_expire_after_the_configured_time() {
    let mut h = Harness::with_limits(Limits {
        request_ttl_ms: 1_000,
        ..Limits::default()
    });
    h.put("/consumer", r#"{"registers":{"a":{"value":2}}}"#);
    h.advance(999);
    assert_eq!(h.service().registry().pending_requests(), 1);
    h.advance(1);
    assert_eq!(h.service().registry().pending_requests(), 0);
    assert_eq!(
        h.get("/provider?name=a").json_body(),
        json!({"registers":{}})
    );
}

#[test]
fn a_new_request_resets_the_expiry_of_the_name() {
    let mut h = Harness::with_limits(Limits {
        request_ttl_ms: 1_000,
        ..Limits::default()
    });
    h.put("/consumer", r#"{"registers":{"a":{"value":1}}}"#);
    h.advance(800);
    h.put("/consumer", r#"{"registers":{"a":{"value":2}}}"#);
    h.advance(800);
    assert_eq!(
        h.get("/provider").json_body(),
        json!({"registers":{"a":{"value":2}}})
    );
}

#[test]
fn names_are_not_validated() {
    let mut h = Harness::new();
    let body = json!({"registers":{"":{"value":1},"ünï/cødé,x":{"value":2},"a:b:c":{"value":3}}});
    assert_eq!(h.put("/provider", &body.to_string()).status, 204);
    assert_eq!(
        h.registers("name=%C3%BCn%C3%AF%2Fc%C3%B8d%C3%A9%2Cx"),
        json!({"ünï/cødé,x":{"value":2}})
    );
    let e = h.service().registry().get("a:b:c").unwrap();
    assert_eq!((e.namespace(), e.name()), ("a", "b:c"));
}

#[test]
fn concurrent_style_interleaving_keeps_state_consistent() {
    // TestConcurrentAccess, in a single-threaded host: 10 writers, readers and requesters × 100
    // interleaved operations, then the state is what the last writes say.
    let mut h = Harness::new();
    for i in 0..100 {
        for w in 0..10 {
            h.put(
                "/provider",
                &format!(r#"{{"registers":{{"r{w}":{{"value":{i}}}}}}}"#),
            );
            h.put(
                "/consumer",
                &format!(r#"{{"registers":{{"r{w}":{{"value":{}}}}}}}"#, i + 1000),
            );
            assert_eq!(
                h.registers(&format!("name=r{w}"))[format!("r{w}")]["value"],
                i
            );
        }
    }
    let requests = h.get("/provider").json_body();
    for w in 0..10 {
        assert_eq!(requests["registers"][format!("r{w}")]["value"], 1099);
    }
}
