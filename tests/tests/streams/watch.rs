use registry_tests::Harness;
use serde_json::{json, Value};

fn kinds(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .map(|m| m["type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_names_watch_gets_a_snapshot_then_every_change_including_expiry() {
    let mut h = Harness::new();
    h.provide("a", json!(1));
    h.provide("b", json!(1));
    h.connect(1);
    h.send(
        1,
        json!({"type": "watch", "watch": "w", "names": ["a", "zz"]}),
    );
    let m = h.take(1);
    assert_eq!(kinds(&m), ["snapshot", "synced"]);
    assert_eq!(m[0]["version"], 2);
    assert_eq!(m[0]["entries"].as_array().unwrap().len(), 1);
    assert_eq!(m[0]["entries"][0]["id"], "a");
    assert_eq!(m[1]["version"], 2);

    h.provide("b", json!(2)); // not watched
    h.provide("a", json!(2));
    let m = h.take(1);
    assert_eq!(kinds(&m), ["change"]);
    assert_eq!(m[0]["version"], 4);
    assert_eq!(m[0]["actor"], "provider");
    assert_eq!(
        m[0]["ops"],
        json!([{"op": "update", "id": "a", "entry": m[0]["ops"][0]["entry"]}])
    );
    assert_eq!(m[0]["ops"][0]["entry"]["data"], 2);

    h.advance(10_000); // default TTL: both expire in one version
    let m = h.take(1);
    assert_eq!(kinds(&m), ["change"]);
    assert_eq!(m[0]["actor"], "ttl");
    assert_eq!(
        m[0]["ops"],
        json!([{"op": "delete", "id": "a", "entry": null}])
    );
}

#[test]
fn a_query_watch_sees_entries_enter_and_leave_and_never_silent_kinds() {
    let mut h = Harness::new();
    h.connect(1);
    h.send(
        1,
        json!({"type": "watch", "watch": "q", "where": ["^meta.room=kit"]}),
    );
    assert_eq!(kinds(&h.take(1)), ["snapshot", "synced"]);
    let put = |h: &mut Harness, id: &str, room: &str| {
        let body = json!({"kind": "lamp", "meta": {"room": room}, "data": true}).to_string();
        let r = h.call("PUT", &format!("/v1/entries/{id}"), &body);
        assert!(r.status == 200 || r.status == 201, "{:?}", r);
    };
    put(&mut h, "l1", "kitchen");
    put(&mut h, "l2", "hall");
    put(&mut h, "l1", "hall"); // leaves the query
    let m = h.take(1);
    assert_eq!(kinds(&m), ["change", "change"]);
    assert_eq!(m[0]["ops"][0]["op"], "create");
    assert_eq!(m[0]["ops"][0]["entry"]["meta"]["room"], "kitchen");
    assert_eq!(
        m[1]["ops"],
        json!([{"op": "update", "id": "l1", "entry": null}])
    );
    // The registry configuration is a non-propagated kind: an all-entries watch never sees it.
    h.send(1, json!({"type": "watch", "watch": "all", "where": []}));
    assert_eq!(
        kinds(&h.take(1)),
        ["snapshot", "synced"],
        "the watch is live"
    );
    let cfg = json!({"config": {"max_ops": 10}}).to_string();
    assert_eq!(h.call("PUT", "/v1/config", &cfg).status, 200);
    assert!(h.take(1).is_empty());
    // …while an ordinary write after it reaches that watch.
    h.provide("r", json!(1));
    let m = h.take(1);
    assert_eq!(kinds(&m), ["change"]);
    assert_eq!(m[0]["watch"], "all");
}

#[test]
fn bad_messages_get_an_error_with_their_ref_and_change_nothing() {
    let mut h = Harness::new();
    h.connect(1);
    let head = h.service().registry().head();
    for bad in [
        "not json".to_string(),
        json!([1]).to_string(),
        json!({"type": "nope", "ref": 7}).to_string(),
        json!({"type": "watch", "ref": 7, "watch": "w"}).to_string(),
        json!({"type": "watch", "ref": 7, "watch": "w", "names": ["a"], "where": []}).to_string(),
        json!({"type": "watch", "ref": 7, "watch": "w", "where": ["~data=("]}).to_string(),
        json!({"type": "watch", "ref": 7, "watch": "w", "names": ["a"], "since": 99}).to_string(),
        json!({"type": "provide", "ref": 7, "registers": {"a": {}}}).to_string(),
        json!({"type": "verdict", "ref": 7, "request": 1, "accept": false, "apply": true})
            .to_string(),
        json!({"type": "watch", "ref": 7, "watch": "w", "names": ["a"], "extra": 1}).to_string(),
    ] {
        h.send(1, &bad);
        let m = h.take(1);
        assert_eq!(kinds(&m), ["error"], "{bad}");
        assert!(m[0]["error"]["code"].is_string());
        if bad.contains("\"ref\"") {
            assert_eq!(m[0]["ref"], 7, "{bad}");
        }
    }
    h.send(
        1,
        "x".repeat(registry_core::Limits::default().max_body_bytes + 1),
    );
    assert_eq!(h.take(1)[0]["error"]["code"], "too_large");
    h.send(1, json!({"type": "ping"}));
    assert_eq!(kinds(&h.take(1)), ["pong"]);
    assert_eq!(h.service().registry().head(), head);
    assert!(h.service().session_state(1).unwrap().watches.is_empty());
}

#[test]
fn sessions_survive_hibernation() {
    let mut h = Harness::new();
    h.connect(1);
    h.connect(2);
    h.send(1, json!({"type": "watch", "watch": "w", "names": ["a"]}));
    h.send(
        2,
        json!({"type": "provide", "registers": {"lamp": {"value": false}}}),
    );
    h.take(1);
    h.take(2);
    h.hibernate();
    h.provide("a", json!(5));
    let m = h.take(1);
    assert_eq!(kinds(&m), ["change"]);
    assert_eq!(m[0]["ops"][0]["entry"]["data"], 5);
    h.connect(3);
    h.send(
        3,
        json!({"type": "request", "ref": "r", "name": "lamp", "value": true}),
    );
    let m = h.take(2);
    assert_eq!(kinds(&m), ["request"]);
    assert_eq!(m[0]["value"], true);
}

#[test]
fn sse_watch_resumes_from_last_event_id() {
    let mut h = Harness::new();
    h.provide("a", json!(1));
    h.provide("a", json!(2));
    h.open_sse(9, "name=a", Some("1")).unwrap();
    let m = h.take(9);
    assert_eq!(kinds(&m), ["change", "synced"]);
    assert_eq!(m[0]["version"], 2);
    let err = h.open_sse(10, "name=a&where=.id=a", None).unwrap_err();
    assert_eq!(err.status, 400);
    let err = h.open_sse(10, "", Some("x")).unwrap_err();
    assert_eq!(err.code, "invalid_since");
    assert_eq!(h.get("/v1/watch").status, 400);
}
