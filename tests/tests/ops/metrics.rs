//! `GET /metrics`: valid text format, register gauges that follow their values, registry
//! numbers and counters that move, bounds, and the principal's scope.

use std::time::Instant;

use registry_core::auth::{Principal, Role};
use registry_core::history::Op;
use registry_core::{Entry, Limits};
use registry_tests::Harness;
use serde_json::json;

use super::prom::{parse, Exposition};

const REG: &str = "registry_register_value";

fn scrape(h: &mut Harness) -> Exposition {
    let r = h.get("/metrics");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(r.body).unwrap();
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn publish(h: &mut Harness, registers: serde_json::Value) {
    let r = h.put("/provider", &json!({ "registers": registers }).to_string());
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn numbers_and_booleans_are_gauges_labelled_by_segments_and_metadata() {
    let mut h = Harness::new();
    publish(
        &mut h,
        json!({
            "kitchen:temp": {"value": 21.5, "metadata": {"unit": "°C", "max-v": 40, "room": "a\"b\\c\nd", "deep": {"x": 1}}, "ttl": "1h"},
            "kitchen.lamp": {"value": true, "ttl": "1h"},
            "garage/door": {"value": false, "ttl": "1h"},
            "label": {"value": "text", "ttl": "1h"},
            "nothing": {"value": null, "ttl": "1h"},
            "big": {"value": -12345678901234567890_i128 as f64, "ttl": "1h"}
        }),
    );
    let m = scrape(&mut h);
    assert_eq!(m.types[REG], "gauge");
    let temp = m
        .of(REG)
        .into_iter()
        .find(|s| s.labels["id"] == "kitchen:temp")
        .unwrap();
    assert_eq!(temp.value, 21.5);
    let labels: Vec<(&str, &str)> = temp
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("id", "kitchen:temp"),
            ("meta_max_v", "40"),
            ("meta_room", "a\"b\\c\nd"),
            ("meta_unit", "°C"),
            ("segment_1", "kitchen"),
            ("segment_2", "temp"),
        ]
    );
    assert_eq!(
        m.value(REG, &[("id", "kitchen.lamp"), ("segment_2", "lamp")]),
        1.0
    );
    assert_eq!(
        m.value(REG, &[("id", "garage/door"), ("segment_1", "garage")]),
        0.0
    );
    assert!(m.value(REG, &[("id", "big")]) < -1.2e19);
    // Strings and null are not numbers: no gauge.
    assert_eq!(m.find(REG, &[("id", "label")]), None);
    assert_eq!(m.find(REG, &[("id", "nothing")]), None);
    assert_eq!(m.of(REG).len(), 4);
    assert_eq!(m.value("registry_metrics_truncated", &[]), 0.0);
    assert_eq!(m.value("registry_entries", &[]), 6.0);
    // Only GET.
    assert_eq!(h.call("POST", "/metrics", "").status, 405);
    // Entries of other kinds are not registers.
    let tx = json!({"ops":[{"op":"create","id":"svc:web","kind":"svc","data":5}]});
    assert_eq!(h.call("POST", "/v1/tx", &tx.to_string()).status, 200);
    assert_eq!(scrape(&mut h).find(REG, &[("id", "svc:web")]), None);
}

#[test]
fn a_gauge_follows_its_register_and_leaves_with_it() {
    let mut h = Harness::new();
    publish(&mut h, json!({"t": {"value": 1, "ttl": "2s"}}));
    assert_eq!(scrape(&mut h).value(REG, &[("id", "t")]), 1.0);
    publish(&mut h, json!({"t": {"value": 7.25, "ttl": "2s"}}));
    let m = scrape(&mut h);
    assert_eq!(m.value(REG, &[("id", "t")]), 7.25);
    assert_eq!(m.value("registry_head_version", &[]), 2.0);
    publish(&mut h, json!({"t": {"value": "seven", "ttl": "2s"}}));
    assert_eq!(scrape(&mut h).find(REG, &[("id", "t")]), None);
    publish(&mut h, json!({"t": {"value": 8, "ttl": "2s"}}));
    h.advance(3_000);
    let m = scrape(&mut h);
    assert_eq!(m.find(REG, &[("id", "t")]), None, "expired");
    assert_eq!(m.value("registry_expiries_total", &[]), 1.0);
}

#[test]
fn registry_numbers_and_counters_move() {
    let mut h = Harness::new();
    let zero = scrape(&mut h);
    for name in [
        "registry_versions_written_total",
        "registry_transactions_committed_total",
        "registry_transactions_rejected_total",
        "registry_expiries_total",
        "registry_bad_requests_total",
    ] {
        assert_eq!(zero.types[name], "counter", "{name}");
        assert_eq!(zero.value(name, &[]), 0.0, "{name}");
    }
    publish(
        &mut h,
        json!({"a": {"value": 1, "ttl": "1s"}, "b": {"value": 2, "ttl": "1h"}}),
    );
    let tx = json!({"ops":[{"op":"create","id":"x","kind":"k","data":{}}]}).to_string();
    assert_eq!(h.call("POST", "/v1/tx", &tx).status, 200);
    assert_eq!(h.call("POST", "/v1/tx", &tx).status, 409, "x exists");
    assert_eq!(h.get("/v1/diff").status, 400);
    assert_eq!(h.call("PUT", "/provider", "{").status, 400);
    h.advance(1_500);
    // A held long poll, an outcome poll, a pending change request, a WebSocket with two
    // watches and an event stream.
    let _poll = h.start("GET", "/consumer?name=b&wait=30s", "");
    let req = h.call("POST", "/v1/requests", r#"{"name":"b","value":5}"#);
    assert_eq!(req.status, 202);
    h.connect(1);
    h.send(1, json!({"type":"watch","watch":"w1","names":["b"]}));
    h.send(1, json!({"type":"watch","watch":"w2","names":["x"]}));
    h.open_sse(2, "names=b", None).unwrap();
    let m = scrape(&mut h);
    assert_eq!(
        m.value("registry_versions_written_total", &[]),
        3.0,
        "publish, tx, expiry"
    );
    assert_eq!(m.value("registry_transactions_committed_total", &[]), 1.0);
    assert_eq!(m.value("registry_transactions_rejected_total", &[]), 1.0);
    assert_eq!(m.value("registry_expiries_total", &[]), 1.0);
    assert_eq!(m.value("registry_bad_requests_total", &[]), 2.0);
    assert_eq!(m.value("registry_entries", &[]), 2.0);
    assert_eq!(m.value("registry_head_version", &[]), 3.0);
    assert_eq!(
        m.value("registry_held_requests", &[("kind", "consumer")]),
        1.0
    );
    assert_eq!(
        m.value("registry_held_requests", &[("kind", "provider")]),
        0.0
    );
    assert_eq!(
        m.value("registry_change_requests", &[("status", "pending")]),
        1.0
    );
    assert_eq!(
        m.value("registry_change_requests", &[("status", "accepted")]),
        0.0
    );
    assert_eq!(
        m.value("registry_streams", &[("transport", "websocket")]),
        1.0
    );
    assert_eq!(m.value("registry_streams", &[("transport", "sse")]), 1.0);
    assert_eq!(m.value("registry_watches", &[]), 3.0);
    // The provider takes the request and accepts it by publishing the value.
    let taken = h.get("/provider?name=b");
    assert_eq!(taken.status, 200);
    publish(&mut h, json!({"b": {"value": 5, "ttl": "1h"}}));
    let m = scrape(&mut h);
    assert_eq!(
        m.value("registry_change_requests", &[("status", "pending")]),
        0.0
    );
    assert_eq!(
        m.value("registry_change_requests", &[("status", "accepted")]),
        1.0
    );
    assert_eq!(m.value(REG, &[("id", "b")]), 5.0);
    assert_eq!(
        m.value("registry_held_requests", &[("kind", "consumer")]),
        0.0,
        "woken"
    );
    h.disconnect(1);
    assert_eq!(
        scrape(&mut h).value("registry_streams", &[("transport", "websocket")]),
        0.0
    );
    // The counters live in the service: a restarted object starts again from 0.
    h.restart();
    assert_eq!(
        scrape(&mut h).value("registry_versions_written_total", &[]),
        0.0
    );
}

#[test]
fn a_scoped_token_sees_its_gauges_and_no_registry_numbers() {
    let mut h = Harness::new();
    publish(
        &mut h,
        json!({"kitchen.temp": {"value": 20, "ttl": "1h"}, "garage.temp": {"value": 9, "ttl": "1h"}}),
    );
    h.act_as(Principal::new(
        "panel",
        Role::Consumer,
        None,
        Some(vec!["kitchen.".into()]),
    ));
    let m = scrape(&mut h);
    let ids: Vec<&str> = m.of(REG).iter().map(|s| s.labels["id"].as_str()).collect();
    assert_eq!(ids, ["kitchen.temp"]);
    assert!(m.types.contains_key("registry_head_version"));
    for hidden in [
        "registry_entries",
        "registry_versions_written_total",
        "registry_streams",
    ] {
        assert!(
            !m.types.contains_key(hidden),
            "{hidden} shown to a scoped token"
        );
    }
    // Positive control: an unrestricted consumer sees everything.
    h.act_as(Principal::new("prom", Role::Consumer, None, None));
    let m = scrape(&mut h);
    assert_eq!(m.of(REG).len(), 2);
    assert_eq!(m.value("registry_entries", &[]), 2.0);
}

fn register(id: String, value: serde_json::Value) -> Op {
    Op::create(Entry {
        id,
        kind: "register".into(),
        meta: serde_json::from_value(json!({"room": "somewhere", "unit": "C"})).unwrap(),
        data: value,
        ttl_ms: None,
        expires_at: None,
        version: 0,
    })
}

#[test]
fn a_registry_of_100000_registers_answers_in_bounded_size() {
    // Past the default entry and state bounds (10,000 entries, 4 MiB), which an embedder may
    // lift: the metrics bound must hold whatever the registry holds.
    let limits = Limits {
        max_entries: 100_000,
        max_state_bytes: 64 << 20,
        ..Limits::default()
    };
    let mut h = Harness::with_limits(limits.clone());
    let filled = Instant::now();
    for chunk in 0..100 {
        let ops: Vec<Op> = (0..1_000)
            .map(|j| chunk * 1_000 + j)
            .map(|i| register(format!("sensor:{i:06}"), json!(i)))
            .collect();
        let now = h.now();
        let step = h.service_mut().commit_changeset(now, "bulk", ops);
        step.value.unwrap();
    }
    eprintln!("100,000 registers written in {:?}", filled.elapsed());
    let started = Instant::now();
    let r = h.get("/metrics");
    let took = started.elapsed();
    let text = String::from_utf8(r.body).unwrap();
    let m = parse(&text).unwrap();
    assert_eq!(m.of(REG).len(), limits.max_metric_gauges);
    assert_eq!(m.value("registry_metrics_truncated", &[]), 1.0);
    assert_eq!(m.value("registry_entries", &[]), 100_000.0);
    // The first gauges in id order are the ones kept.
    assert_eq!(m.of(REG)[0].labels["id"], "sensor:000000");
    assert!(
        text.len() <= limits.max_metrics_bytes + (8 << 10),
        "{} bytes",
        text.len()
    );
    eprintln!(
        "metrics of 100,000 registers: {} bytes in {took:?}",
        text.len()
    );
    // A byte bound smaller than the count bound truncates first.
    let mut h = Harness::with_limits(Limits {
        max_metrics_bytes: 10_000,
        ..Limits::default()
    });
    let ops: Vec<Op> = (0..1_000)
        .map(|i| register(format!("s:{i:04}"), json!(i % 2 == 0)))
        .collect();
    let now = h.now();
    h.service_mut()
        .commit_changeset(now, "bulk", ops)
        .value
        .unwrap();
    let text = String::from_utf8(h.get("/metrics").body).unwrap();
    let m = parse(&text).unwrap();
    let gauges: usize = m.of(REG).len();
    assert!(gauges > 10 && gauges < 1_000, "{gauges}");
    assert_eq!(m.value("registry_metrics_truncated", &[]), 1.0);
    let gauge_bytes: usize = text
        .lines()
        .filter(|l| l.starts_with(REG))
        .map(|l| l.len() + 1)
        .sum();
    assert!(gauge_bytes <= 10_000, "{gauge_bytes}");
}
