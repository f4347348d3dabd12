//! Lossless resume: a watcher that disconnects at arbitrary points and reconnects with the
//! last version it processed receives exactly what a watcher that never disconnected received.

use proptest::prelude::*;
use registry_core::Limits;
use registry_tests::Harness;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
enum Step {
    Put(u8, u8),
    Delete(u8),
    Tx(u8, u8),
    Rollback(u8),
    Wait(u16),
    Reconnect,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..5, 0u8..3).prop_map(|(n, v)| Step::Put(n, v)),
        1 => (0u8..5).prop_map(Step::Delete),
        1 => (0u8..5, 0u8..5).prop_map(|(a, b)| Step::Tx(a, b)),
        1 => (1u8..8).prop_map(Step::Rollback),
        1 => (1u16..12_000).prop_map(Step::Wait),
        2 => Just(Step::Reconnect),
    ]
}

fn name(n: u8) -> String {
    format!("r{n}")
}

/// The `(version, ops)` of every change message; checks versions strictly increase.
fn changes(msgs: &[Value], last: &mut u64, out: &mut Vec<(u64, Value)>) {
    for m in msgs {
        match m["type"].as_str().unwrap() {
            "change" => {
                let v = m["version"].as_u64().unwrap();
                assert!(
                    v > *last,
                    "version {v} after {last}: duplicated or out of order"
                );
                *last = v;
                out.push((v, m["ops"].clone()));
            }
            "synced" | "snapshot" => *last = (*last).max(m["version"].as_u64().unwrap()),
            other => panic!("unexpected {other}: {m}"),
        }
    }
}

fn run(steps: &[Step], watch: Value) {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"r0":{"value":0,"ttl":"1h"}}}"#,
    );
    let start = h.service().registry().head();
    let watch_msg = |since: u64| {
        let mut w = watch.clone();
        w["type"] = json!("watch");
        w["watch"] = json!("w");
        w["since"] = json!(since);
        w
    };
    h.connect(1);
    h.send(1, watch_msg(start));
    h.connect(2);
    h.send(2, watch_msg(start));
    let (mut last1, mut seen1) = (0, Vec::new());
    let (mut last2, mut seen2) = (0, Vec::new());
    let mut conn2 = 2;
    for s in steps {
        match s {
            Step::Put(n, v) => {
                let ttl = if *v == 2 { "5s" } else { "1h" };
                let body = json!({"registers": {name(*n): {"value": v, "ttl": ttl}}});
                h.put("/provider", &body.to_string());
            }
            Step::Delete(n) => {
                h.call("DELETE", &format!("/v1/entries/{}", name(*n)), "");
            }
            Step::Tx(a, b) => {
                let body = json!({"ops": [
                    {"op": "upsert", "id": name(*a), "kind": "register", "data": "tx"},
                    {"op": "upsert", "id": name(*b + 5), "kind": "other", "data": 1},
                ]});
                h.call("POST", "/v1/tx", &body.to_string());
            }
            Step::Rollback(back) => {
                let head = h.service().registry().head();
                let to = head.saturating_sub(*back as u64);
                h.call("POST", "/v1/rollback", &json!({"to": to}).to_string());
            }
            Step::Wait(ms) => h.advance(*ms as u64),
            Step::Reconnect => {
                let m = h.take(conn2);
                changes(&m, &mut last2, &mut seen2);
                h.disconnect(conn2);
                // Changes happen while it is away.
                h.put(
                    "/provider",
                    r#"{"registers":{"r1":{"value":"away","ttl":"2s"}}}"#,
                );
                conn2 += 1;
                h.connect(conn2);
                h.send(conn2, watch_msg(last2));
            }
        }
        let m = h.take(1);
        changes(&m, &mut last1, &mut seen1);
    }
    let m = h.take(conn2);
    changes(&m, &mut last2, &mut seen2);
    assert_eq!(seen1, seen2, "the resumed watcher saw something else");
    assert!(last2 >= last1, "the resumed watcher is behind");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn resume_by_names_is_lossless(steps in proptest::collection::vec(step(), 1..40)) {
        run(&steps, json!({"names": ["r0", "r1", "r6"]}));
    }

    #[test]
    fn resume_by_query_is_lossless(steps in proptest::collection::vec(step(), 1..40)) {
        run(&steps, json!({"where": [".kind=register", "data=*"]}));
    }
}

#[test]
fn a_since_older_than_retention_gets_a_snapshot() {
    let limits = Limits {
        checkpoint_interval: 4,
        max_versions: Some(4),
        ..Limits::default()
    };
    let mut h = Harness::with_limits(limits);
    for i in 0..20 {
        let body = json!({"registers": {"a": {"value": i, "ttl": "1h"}}});
        h.put("/provider", &body.to_string());
    }
    let base = h.service().registry().meta().base;
    assert!(base > 1, "history was folded");
    h.connect(1);
    h.send(
        1,
        json!({"type": "watch", "watch": "w", "names": ["a"], "since": 1}),
    );
    let m = h.take(1);
    assert_eq!(m[0]["type"], "snapshot");
    assert_eq!(m[0]["entries"][0]["data"], 19);
    assert_eq!(m[1]["type"], "synced");
    // From the base on, the backlog is complete.
    h.send(
        1,
        json!({"type": "watch", "watch": "w", "names": ["a"], "since": base}),
    );
    let m = h.take(1);
    let versions: Vec<u64> = m
        .iter()
        .filter(|m| m["type"] == "change")
        .map(|m| m["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, ((base + 1)..=20).collect::<Vec<_>>());
}
