//! The bound on a registry's total state (`Limits::max_state_bytes`, issue 16): a write that
//! grows the state past it is refused with a JSON error on every route and changes nothing;
//! writes that do not grow the state always pass; the running total stays exact.

use registry_core::write::checks::entry_bytes;
use registry_core::Limits;
use registry_tests::{Harness, Ticket};
use serde_json::{json, Value};

/// 2,000 bytes of state: a handful of 300-byte registers.
fn small() -> Limits {
    Limits {
        max_state_bytes: 2_000,
        ..Limits::default()
    }
}

fn value(n: usize) -> String {
    "x".repeat(n)
}

/// The state's bytes recounted over every entry.
fn recount(h: &Harness) -> usize {
    h.service().registry().entries().map(entry_bytes).sum()
}

fn provide(h: &mut Harness, name: &str, v: &str) -> u16 {
    let body = json!({"registers":{name:{"value":v,"ttl":"1h"}}}).to_string();
    h.put("/provider", &body).status
}

/// Fills `h` with 300-byte registers until the bound refuses the next one (429, nothing
/// written); their names.
fn fill(h: &mut Harness) -> Vec<String> {
    let mut names = Vec::new();
    loop {
        let name = format!("r:{}", names.len());
        let head = h.service().registry().head();
        match provide(h, &name, &value(300)) {
            204 => {
                names.push(name);
                assert!(names.len() < 100, "the state bound never refused");
            }
            status => {
                assert_eq!(status, 429, "after {} registers", names.len());
                assert_eq!(h.service().registry().head(), head);
                assert!(h.service().registry().state_bytes() <= 2_000);
                return names;
            }
        }
    }
}

fn assert_refused(r: &registry_core::HttpResponse, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    let body: Value = r.json_body();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2000 bytes"));
}

#[test]
fn a_write_past_the_state_bound_is_429_on_every_route_and_changes_nothing() {
    let mut h = Harness::with_limits(small());
    let names = fill(&mut h);
    assert!(names.len() >= 5, "{} registers fit", names.len());
    let (head, bytes, len) = (
        h.service().registry().head(),
        h.service().registry().state_bytes(),
        h.service().registry().len(),
    );
    let body = json!({"registers":{"new":{"value":value(300)}}}).to_string();
    let r = h.put("/provider", &body);
    assert_refused(&r, 429, "capacity_exceeded");
    assert!(r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("retry-after")));
    // Growing an existing register is growth too.
    let body = json!({"registers":{names[0].clone():{"value":value(700)}}}).to_string();
    assert_refused(&h.put("/provider", &body), 429, "capacity_exceeded");
    let entry = json!({"kind":"k","data":value(300)}).to_string();
    assert_refused(&h.put("/v1/entries/new", &entry), 429, "capacity_exceeded");
    let tx = json!({"ops":[{"op":"create","id":"new","kind":"k","data":value(300)}]});
    assert_refused(
        &h.call("POST", "/v1/tx", &tx.to_string()),
        429,
        "capacity_exceeded",
    );
    h.connect(1);
    h.send(
        1,
        json!({"type":"provide","ref":1,"registers":{"new":{"value":value(300)}}}),
    );
    assert_eq!(h.take(1)[0]["error"]["code"], "capacity_exceeded");
    let reg = h.service().registry();
    assert_eq!(
        (reg.head(), reg.state_bytes(), reg.len()),
        (head, bytes, len)
    );
    assert!(reg.get("new").is_none());
    assert_eq!(recount(&h), bytes);
}

#[test]
fn a_write_larger_than_the_bound_alone_is_413() {
    let mut h = Harness::with_limits(Limits {
        max_state_bytes: 1_000,
        ..Limits::default()
    });
    let tx = json!({"ops":[
        {"op":"create","id":"a","kind":"k","data":value(600)},
        {"op":"create","id":"b","kind":"k","data":value(600)},
    ]});
    let r = h.call("POST", "/v1/tx", &tx.to_string());
    assert_eq!(r.status, 413, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body()["error"]["code"], "too_large");
    assert_eq!(h.service().registry().head(), 0);
    // Positive control: half of it fits.
    let tx = json!({"ops":[{"op":"create","id":"a","kind":"k","data":value(600)}]});
    assert_eq!(h.call("POST", "/v1/tx", &tx.to_string()).status, 200);
}

#[test]
fn a_write_that_does_not_grow_the_state_always_passes_even_over_a_lowered_bound() {
    let mut h = Harness::with_limits(small());
    let names = fill(&mut h);
    // A swap within the bound: one register grows as another shrinks.
    let body = json!({"registers":{
        names[0].clone():{"value":value(350),"ttl":"1h"},
        names[1].clone():{"value":value(200),"ttl":"1h"},
    }})
    .to_string();
    assert_eq!(h.put("/provider", &body).status, 204);
    let full = h.service().registry().head();
    // The bound is lowered below what the registry holds (a redeploy).
    h.restart_with_limits(Limits {
        max_state_bytes: 500,
        ..Limits::default()
    });
    assert!(h.service().registry().state_bytes() > 500);
    assert_eq!(recount(&h), h.service().registry().state_bytes());
    // Growth is refused, shrinking and same-size writes pass.
    assert_eq!(provide(&mut h, &names[2], &value(301)), 429);
    assert_eq!(provide(&mut h, &names[2], &value(100)), 204);
    assert_eq!(provide(&mut h, &names[2], &value(100)), 204);
    let r = h.call("DELETE", &format!("/v1/entries/{}", names[3]), "");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // A rollback to the full state grows it: refused (413, as the entries it restores are
    // over the bound by themselves). One to 0 empties it: accepted.
    let r = h.call("POST", "/v1/rollback", &json!({"to": full}).to_string());
    assert_eq!(r.status, 413, "{}", String::from_utf8_lossy(&r.body));
    assert!(h.service().registry().state_bytes() < 2_000);
    let r = h.call("POST", "/v1/rollback", r#"{"to":0}"#);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(h.service().registry().state_bytes(), 0);
    // Expiry is never refused: fill again under the lowered bound, lower it once more, expire.
    assert_eq!(provide(&mut h, "e", &value(400)), 204);
    h.restart_with_limits(Limits {
        max_state_bytes: 10,
        ..Limits::default()
    });
    h.advance(3_600_001);
    assert_eq!(h.service().registry().len(), 0, "expired");
    assert_eq!(h.service().registry().state_bytes(), 0);
}

#[test]
fn the_running_total_equals_a_recount_after_every_kind_of_write() {
    let mut h = Harness::new();
    let check = |h: &Harness, what: &str| {
        let bytes = h.service().registry().state_bytes();
        assert_eq!(bytes, recount(h), "after {what}");
        bytes
    };
    assert_eq!(check(&h, "nothing"), 0);
    assert_eq!(provide(&mut h, "a", "one"), 204);
    assert_eq!(
        h.put(
            "/provider",
            r#"{"registers":{"b":{"value":[1,2,3],"ttl":"5s"}}}"#
        )
        .status,
        204
    );
    check(&h, "registers");
    let tx = json!({"ops":[
        {"op":"upsert","id":"c","kind":"k","meta":{"m":"éé"},"data":{"x":"\u{1F600}"}},
        {"op":"upsert","id":"d","kind":"k","data":value(50)},
        {"op":"upsert","id":"a","kind":"k","data":"longer than one"},
    ]});
    let r = h.call("POST", "/v1/tx", &tx.to_string());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    check(&h, "a transaction");
    assert_eq!(h.call("DELETE", "/v1/entries/c", "").status, 200);
    check(&h, "a delete");
    h.advance(6_000);
    assert!(h.service().registry().get("b").is_none(), "b expired");
    check(&h, "expiry");
    let r = h.call("POST", "/v1/rollback", r#"{"to":3}"#);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let bytes = check(&h, "a rollback");
    h.restart();
    assert_eq!(check(&h, "a restart"), bytes);
}

#[test]
fn a_transaction_held_for_validators_is_checked_against_the_state_it_commits_to() {
    let mut h = Harness::with_limits(small());
    h.connect(1);
    h.send(
        1,
        json!({"type":"validate","ref":1,"validator":"v","where":[".kind=held"]}),
    );
    assert_eq!(h.take(1)[0]["type"], "ok");
    let tx = json!({"ops":[{"op":"create","id":"held","kind":"held","data":value(300)}]});
    let t = h.start("POST", "/v1/tx", &tx.to_string());
    assert!(matches!(t, Ticket::Held(_)));
    let ask = h.take(1);
    // Meanwhile other writes fill the registry.
    fill(&mut h);
    let bytes = h.service().registry().state_bytes();
    h.send(
        1,
        json!({"type":"decide","tx":ask[0]["tx"],"validator":"v","accept":true}),
    );
    let r = h.result(&t).expect("decided");
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    assert!(h.service().registry().get("held").is_none());
    assert_eq!(h.service().registry().state_bytes(), bytes);
}
