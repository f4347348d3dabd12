//! §1.7: the edge-case table, row by row (rows covered elsewhere are named there).

use registry_tests::Harness;
use serde_json::json;

#[test]
fn missing_name_is_omitted_not_empty() {
    let mut h = Harness::new();
    assert_eq!(
        h.get("/consumer?name=missing").body,
        b"{\"registers\":{}}\n"
    );
}

#[test]
fn identical_refresh_does_not_wake_but_extends_ttl() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1,"metadata":{"u":"C"},"ttl":"3s"}}}"#,
    );
    let t = h.start("GET", "/consumer?name=a&wait=4500ms", "");
    h.advance(2_000);
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1,"metadata":{"u":"C"},"ttl":"3s"}}}"#,
    );
    assert!(h.result(&t).is_none(), "a TTL refresh is not a change");
    h.advance(2_000); // 4 s after the first PUT: alive only because of the refresh
    assert!(h.result(&t).is_none());
    h.advance(500);
    assert_eq!(
        h.result(&t).unwrap().json_body(),
        json!({"registers":{"a":{"value":1,"metadata":{"u":"C"}}}})
    );
}

#[test]
fn metadata_only_change_wakes() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"temp":{"value":25,"metadata":{"unit":"C"}}}}"#,
    );
    let t = h.start("GET", "/consumer?name=temp&wait=500ms", "");
    h.advance(10);
    h.put(
        "/provider",
        r#"{"registers":{"temp":{"value":25,"metadata":{"unit":"F"}}}}"#,
    );
    let r = h.result(&t).expect("woken at once");
    assert_eq!(r.json_body()["registers"]["temp"]["metadata"]["unit"], "F");
}

#[test]
fn expiry_during_a_wait_wakes_it_exactly_at_expiry() {
    let mut h = Harness::new();
    let start = h.now();
    h.put(
        "/provider",
        r#"{"registers":{"a":{"value":1,"ttl":"1500ms"}}}"#,
    );
    let t = h.start("GET", "/consumer?name=a&wait=5s", "");
    h.advance(5_000);
    let (at, r) = h.answered(&t).unwrap();
    assert_eq!(at - start, 1_500, "exact to the clock, not to a 1 s sweep");
    assert_eq!(r.json_body(), json!({"registers":{}}));
}

#[test]
fn ttl_zero_or_negative_means_the_default_ten_seconds() {
    for ttl in ["0s", "-5s", "-1s"] {
        let mut h = Harness::new();
        h.put(
            "/provider",
            &format!(r#"{{"registers":{{"a":{{"value":1,"ttl":"{ttl}"}}}}}}"#),
        );
        h.advance(9_999);
        assert_eq!(
            h.registers("name=a").as_object().unwrap().len(),
            1,
            "ttl {ttl}"
        );
        h.advance(1);
        assert_eq!(h.registers("name=a"), json!({}), "ttl {ttl}");
    }
}

#[test]
fn absent_ttl_means_the_default_ten_seconds() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"a":{"value":1}}}"#);
    let e = h.service().registry().get("a").unwrap().clone();
    assert_eq!(e.expires_at, Some(h.now() + 10_000));
}

#[test]
fn two_requests_before_a_poll_leave_only_the_latest() {
    let mut h = Harness::new();
    h.put("/consumer", r#"{"registers":{"t":{"value":20}}}"#);
    h.put("/consumer", r#"{"registers":{"t":{"value":30}}}"#);
    assert_eq!(
        h.get("/provider").json_body(),
        json!({"registers":{"t":{"value":30}}})
    );
}

#[test]
fn immediate_waits_answer_at_once() {
    let mut h = Harness::new();
    for q in ["wait=-1s", "wait=0"] {
        assert_eq!(h.get(&format!("/consumer?{q}")).status, 200);
        assert_eq!(h.get(&format!("/provider?{q}")).status, 200);
    }
}
