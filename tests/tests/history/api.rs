//! The `/v1` entries and history API through the API layer.

use registry_core::Limits;
use registry_tests::{field, Harness};
use serde_json::{json, Value};

fn put(h: &mut Harness, id: &str, v: Value) -> registry_core::HttpResponse {
    h.put(&format!("/v1/entries/{id}"), &v.to_string())
}

#[test]
fn entries_are_created_updated_read_and_deleted_as_versions() {
    let mut h = Harness::new();
    let r = put(
        &mut h,
        "svc:web",
        json!({"kind": "svc.http", "meta": {"port": 8080}, "data": {"root": "/srv"}}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json_body()["version"], 1);
    assert_eq!(r.header("x-registry-version"), Some("1"));
    let r = put(
        &mut h,
        "svc:web",
        json!({"kind": "svc.http", "meta": {"port": 8081}, "data": {"root": "/srv"}}),
    );
    assert_eq!(
        (r.status, r.json_body()["version"].as_u64()),
        (200, Some(2))
    );
    let r = put(
        &mut h,
        "svc:web",
        json!({"kind": "svc.http", "meta": {"port": 8081}, "data": {"root": "/srv"}}),
    );
    assert_eq!(
        (r.status, r.json_body()["version"].as_u64()),
        (200, Some(2)),
        "no change, no version"
    );
    let r = h.get("/v1/entries/svc:web");
    assert_eq!(
        r.json_body(),
        json!({"id": "svc:web", "kind": "svc.http", "meta": {"port": 8081}, "data": {"root": "/srv"}, "version": 2})
    );
    let r = h.call("DELETE", "/v1/entries/svc:web", "");
    assert_eq!(
        (r.status, r.json_body()["version"].as_u64()),
        (200, Some(3))
    );
    assert_eq!(h.get("/v1/entries/svc:web").status, 404);
    assert_eq!(h.call("DELETE", "/v1/entries/svc:web", "").status, 404);
}

#[test]
fn ids_may_hold_slashes_and_percent_signs() {
    let mut h = Harness::new();
    assert_eq!(
        put(&mut h, "a%2Fb%25c", json!({"kind": "k", "data": 1})).status,
        201
    );
    assert_eq!(h.get("/v1/entries/a%2Fb%25c").json_body()["id"], "a/b%c");
}

#[test]
fn a_stale_if_version_is_409_and_writes_nothing() {
    let mut h = Harness::new();
    put(&mut h, "x", json!({"kind": "k", "data": 1}));
    put(&mut h, "x", json!({"kind": "k", "data": 2}));
    let commits = h.service().store().commits;
    let r = put(
        &mut h,
        "x",
        json!({"kind": "k", "data": 3, "if_version": 1}),
    );
    assert_eq!(
        (r.status, r.json_body()["error"]["code"].as_str()),
        (409, Some("version_conflict"))
    );
    let r = put(
        &mut h,
        "new",
        json!({"kind": "k", "data": 3, "if_version": 5}),
    );
    assert_eq!(r.status, 409);
    let r = h.call("DELETE", "/v1/entries/x?if_version=1", "");
    assert_eq!(r.status, 409);
    assert_eq!(h.service().store().commits, commits, "nothing was written");
    assert_eq!(h.get("/v1/entries/x").json_body()["data"], 2);
    assert_eq!(
        put(
            &mut h,
            "x",
            json!({"kind": "k", "data": 3, "if_version": 2})
        )
        .status,
        200
    );
    assert_eq!(
        put(
            &mut h,
            "y",
            json!({"kind": "k", "data": 3, "if_version": 0})
        )
        .status,
        201
    );
}

#[test]
fn bad_entry_bodies_are_400_and_write_nothing() {
    let mut h = Harness::new();
    for (b, code) in [
        ("not json", "invalid_request"),
        (r#"{"data":1}"#, "invalid_request"),
        (r#"{"kind":"k"}"#, "invalid_request"),
        (r#"{"kind":"k","data":1,"extra":true}"#, "invalid_request"),
        (r#"{"kind":"","data":1}"#, "invalid_kind"),
        (r#"{"kind":"a..b","data":1}"#, "invalid_kind"),
        (r#"{"kind":"k","data":1,"ttl":"0s"}"#, "invalid_request"),
        (r#"{"kind":"k","data":1,"ttl":"soon"}"#, "invalid_request"),
        (r#"{"kind":"k","data":1,"meta":[]}"#, "invalid_request"),
    ] {
        let r = h.put("/v1/entries/e", b);
        assert_eq!(
            (r.status, r.json_body()["error"]["code"].as_str().unwrap()),
            (400, code),
            "{b}"
        );
    }
    assert_eq!(h.service().registry().head(), 0);
    assert_eq!(h.get("/v1/entries/e").status, 404);
}

#[test]
fn every_mutation_path_makes_versions_with_actors() {
    let mut h = Harness::new();
    h.put("/provider", r#"{"registers":{"t":{"value":1,"ttl":"1s"}}}"#);
    h.put("/provider", r#"{"registers":{"t":{"value":1,"ttl":"1s"}}}"#); // refresh: none
    put(&mut h, "e", json!({"kind": "k", "data": 1}));
    h.advance(1_000);
    h.call("POST", "/v1/rollback", r#"{"to":1}"#);
    let r = h.get("/v1/versions").json_body();
    let actors = field(&r["versions"], "actor");
    assert_eq!(actors, ["rollback", "ttl", "api", "provider"]);
    assert_eq!(r["head"], 4);
    let v3 = h.get("/v1/versions/3").json_body();
    assert_eq!(v3["changeset"][0]["op"], "delete");
    assert_eq!(v3["changeset"][0]["before"]["data"], 1);
    assert_eq!(v3["parent"], 2);
    let v4 = h.get("/v1/versions/4").json_body();
    let ops = registry_tests::ops(&v4["changeset"]);
    assert_eq!(ops, ["create t", "delete e"], "creates before deletes");
}

#[test]
fn versions_are_paged_newest_first() {
    let mut h = Harness::new();
    for i in 0..7 {
        put(&mut h, "e", json!({"kind": "k", "data": i}));
    }
    let page = h.get("/v1/versions?limit=3").json_body();
    let nums = |p: &Value| registry_tests::numbers(&p["versions"], "version");
    assert_eq!(nums(&page), [7, 6, 5]);
    let next = page["next_before"].as_u64().unwrap();
    let page2 = h
        .get(&format!("/v1/versions?limit=3&before={next}"))
        .json_body();
    assert_eq!(nums(&page2), [4, 3, 2]);
    let page3 = h
        .get(&format!(
            "/v1/versions?limit=3&before={}",
            page2["next_before"]
        ))
        .json_body();
    assert_eq!(nums(&page3), [1]);
    assert_eq!(page3["next_before"], Value::Null);
}

#[test]
fn state_at_diff_and_rollback() {
    let mut h = Harness::new();
    put(&mut h, "a", json!({"kind": "k", "data": 1}));
    put(&mut h, "b", json!({"kind": "k", "data": 1}));
    put(&mut h, "a", json!({"kind": "k", "data": 2}));
    h.call("DELETE", "/v1/entries/b", "");
    let s = h.get("/v1/state?at=2").json_body();
    let ids: Vec<(&str, i64)> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_str().unwrap(), e["data"].as_i64().unwrap()))
        .collect();
    assert_eq!(ids, [("a", 1), ("b", 1)]);
    let d = h.get("/v1/diff?from=1&to=4").json_body();
    assert_eq!(
        d["changeset"].as_array().unwrap().len(),
        1,
        "b created and deleted squashes away"
    );
    assert_eq!(d["changeset"][0]["op"], "update");
    let back = h.get("/v1/diff?from=4&to=2").json_body();
    assert_eq!(field(&back["changeset"], "op"), ["create", "update"]);
    let r = h.call("POST", "/v1/rollback", r#"{"to":2,"if_version":4}"#);
    assert_eq!(
        (r.status, r.json_body()["version"].as_u64()),
        (200, Some(5))
    );
    assert_eq!(h.get("/v1/entries/a").json_body()["data"], 1);
    assert_eq!(h.get("/v1/entries/b").json_body()["data"], 1);
    let r = h.call("POST", "/v1/rollback", r#"{"to":2}"#);
    assert_eq!(
        (r.status, r.json_body()["version"].as_u64()),
        (200, Some(5)),
        "already there: no version"
    );
    assert_eq!(
        h.call("POST", "/v1/rollback", r#"{"to":1,"if_version":4}"#)
            .status,
        409
    );
}

#[test]
fn unknown_and_bad_versions_are_clear_errors() {
    let mut h = Harness::new();
    put(&mut h, "a", json!({"kind": "k", "data": 1}));
    for (path, status, code) in [
        ("/v1/versions/2", 404, "unknown_version"),
        ("/v1/versions/0", 404, "unknown_version"),
        ("/v1/versions/x", 400, "invalid_parameter"),
        ("/v1/state?at=9", 404, "unknown_version"),
        ("/v1/state", 400, "invalid_parameter"),
        ("/v1/diff?from=0&to=9", 404, "unknown_version"),
        ("/v1/diff?from=a&to=1", 400, "invalid_parameter"),
        ("/v1/versions?limit=0", 400, "invalid_parameter"),
    ] {
        let r = h.get(path);
        assert_eq!(
            (r.status, r.json_body()["error"]["code"].as_str().unwrap()),
            (status, code),
            "{path}"
        );
    }
    assert_eq!(h.call("POST", "/v1/rollback", r#"{"to":7}"#).status, 404);
    assert_eq!(h.call("POST", "/v1/rollback", r#"{"back":1}"#).status, 400);
    assert_eq!(h.call("GET", "/v1/rollback", "").status, 405);
    assert_eq!(h.call("POST", "/v1/versions", "").status, 405);
}

#[test]
fn retention_folds_old_versions_into_the_base_with_a_distinct_error() {
    let mut h = Harness::with_limits(Limits {
        checkpoint_interval: 4,
        max_versions: Some(5),
        ..Limits::default()
    });
    for i in 0..30 {
        put(
            &mut h,
            &format!("e{}", i % 3),
            json!({"kind": "k", "data": i}),
        );
    }
    let versions = h.get("/v1/versions?limit=1000").json_body();
    let oldest = versions["oldest"].as_u64().unwrap();
    let count = versions["versions"].as_array().unwrap().len() as u64;
    assert!((5..=5 + 2 * 4).contains(&count), "kept {count} versions");
    assert_eq!(count, 30 - oldest + 1);
    let r = h.get(&format!("/v1/versions/{}", oldest - 1));
    assert_eq!(
        (r.status, r.json_body()["error"]["code"].as_str().unwrap()),
        (410, "version_folded")
    );
    assert_eq!(h.get("/v1/state?at=1").status, 410);
    assert_eq!(h.call("POST", "/v1/rollback", r#"{"to":1}"#).status, 410);
    // The base itself and everything after it stays readable and consistent.
    let base_state = h.get(&format!("/v1/state?at={}", oldest - 1)).json_body();
    assert_eq!(base_state["entries"].as_array().unwrap().len(), 3);
    assert_eq!(
        h.get(&format!("/v1/diff?from={}&to=30", oldest - 1)).status,
        200
    );
    h.restart();
    assert_eq!(
        h.get("/v1/versions?limit=1000").json_body()["oldest"].as_u64(),
        Some(oldest)
    );
}

#[test]
fn register_reads_carry_the_version() {
    let mut h = Harness::new();
    put(&mut h, "a", json!({"kind": "k", "data": 1}));
    assert_eq!(h.get("/consumer").header("x-registry-version"), Some("1"));
    assert_eq!(h.get("/v1/entries").header("x-registry-version"), Some("1"));
}

#[test]
fn history_since_lists_only_newer_versions() {
    let mut h = Harness::new();
    for i in 0..6 {
        put(&mut h, "e", json!({"kind": "k", "data": i}));
    }
    let page = h.get("/v1/versions?since=3&limit=2").json_body();
    let nums = registry_tests::numbers(&page["versions"], "version");
    assert_eq!(nums, [6, 5]);
    let page = h
        .get(&format!(
            "/v1/versions?since=3&limit=2&before={}",
            page["next_before"]
        ))
        .json_body();
    let nums = registry_tests::numbers(&page["versions"], "version");
    assert_eq!(nums, [4]);
    assert_eq!(page["next_before"], Value::Null);
}

#[test]
fn the_register_api_sees_only_registers_and_cannot_overwrite_other_kinds() {
    let mut h = Harness::new();
    put(&mut h, "cfg", json!({"kind": "config", "data": 1}));
    put(&mut h, "reg", json!({"kind": "register", "data": 2}));
    assert_eq!(h.registers(""), json!({"reg": {"value": 2}}));
    assert_eq!(h.registers("name=cfg"), json!({}));
    let r = h.put("/provider", r#"{"registers":{"cfg":{"value":5}}}"#);
    assert_eq!(
        (r.status, r.json_body()["error"]["code"].as_str()),
        (409, Some("kind_conflict"))
    );
    assert_eq!(
        h.get("/v1/entries/cfg").json_body()["data"],
        1,
        "nothing was written"
    );
}

#[test]
fn numbers_at_the_ends_of_u64_are_answered_never_overflowed() {
    let mut h = Harness::new();
    put(&mut h, "a", json!({"kind": "k", "data": 1}));
    let max = u64::MAX;
    let r = h.get(&format!("/v1/versions?since={max}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json_body()["versions"], json!([]));
    assert_eq!(r.json_body()["next_before"], Value::Null);
    // Positive control: since=0 lists the version.
    assert_eq!(
        h.get("/v1/versions?since=0").json_body()["versions"][0]["version"],
        1
    );
    for (path, status) in [
        (format!("/v1/versions?before={max}"), 200),
        ("/v1/versions?before=0".to_string(), 200),
        (format!("/v1/versions?limit={max}"), 400),
        ("/v1/versions?limit=4294967297".to_string(), 400),
        ("/v1/versions?since=18446744073709551616".to_string(), 400),
        (format!("/v1/versions/{max}"), 404),
        (format!("/v1/state?at={max}"), 404),
        (format!("/v1/diff?from=0&to={max}"), 404),
        (format!("/v1/diff?from={max}&to=0"), 404),
        (format!("/v1/entries?limit={max}"), 400),
        (format!("/consumer?since={max}"), 200),
    ] {
        assert_eq!(h.get(&path).status, status, "{path}");
    }
    let r = h.call("POST", "/v1/rollback", &format!(r#"{{"to":{max}}}"#));
    assert_eq!(r.status, 404);
    let r = h.call(
        "POST",
        "/v1/rollback",
        &format!(r#"{{"to":0,"if_version":{max}}}"#),
    );
    assert_eq!(r.status, 409);
    assert_eq!(h.get("/v1/entries/a").json_body()["data"], 1);
}
