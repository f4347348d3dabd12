//! Reads never leak: names outside the scope are absent from every answer (registers, lists,
//! queries, versions, diffs, states, dependencies) and single-entry reads are refused, with an
//! unrestricted principal as the positive control of each filter.

use registry_core::auth::{Principal, Role};
use registry_tests::{field, ops, Ticket};
use serde_json::json;

use super::writes::{kitchen, seeded};

fn ids(entries: &serde_json::Value) -> Vec<String> {
    field(entries, "id")
}

#[test]
fn lists_queries_and_registers_show_only_the_scope() {
    let mut h = seeded();
    h.act_as(Principal::open());
    assert_eq!(
        ids(&h.get("/v1/entries").json_body()["entries"]),
        ["garage.door", "kitchen.lamp"]
    );
    h.act_as(kitchen(Role::Consumer));
    let regs = h.registers("");
    assert_eq!(
        regs.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["kitchen.lamp"]
    );
    assert!(h
        .registers("name=garage.door")
        .as_object()
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(&h.get("/v1/entries").json_body()["entries"]),
        ["kitchen.lamp"]
    );
    let q = h.get("/v1/entries?where=.id=*").json_body();
    assert_eq!(ids(&q["entries"]), ["kitchen.lamp"]);
    // Pages count visible entries only: a page of one ends on the last visible id.
    let page = h.get("/v1/entries?limit=1").json_body();
    assert_eq!(ids(&page["entries"]), ["kitchen.lamp"]);
    assert_eq!(page["next_cursor"], serde_json::Value::Null);
    let single = h.get("/v1/entries/garage.door");
    assert_eq!(single.status, 403);
    assert_eq!(h.get("/v1/entries/garage.nothing").body, single.body);
    assert_eq!(h.get("/v1/entries/kitchen.lamp").status, 200);
    // A query cached for the scoped reader answers the unrestricted one in full.
    h.act_as(Principal::open());
    let q = h.get("/v1/entries?where=.id=*").json_body();
    assert_eq!(ids(&q["entries"]), ["garage.door", "kitchen.lamp"]);
}

#[test]
fn history_shows_only_the_scope() {
    let mut h = seeded();
    h.act_as(kitchen(Role::Consumer));
    // Version 2 wrote only garage.door: it shows no operation.
    let v2 = h.get("/v1/versions/2").json_body();
    assert_eq!(v2["changeset"], json!([]));
    let v1 = h.get("/v1/versions/1").json_body();
    assert_eq!(ops(&v1["changeset"]), ["create kitchen.lamp"]);
    let list = h.get("/v1/versions").json_body();
    let counts: Vec<u64> = list["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["ops"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [0, 1]);
    let diff = h.get("/v1/diff?from=0&to=2").json_body();
    assert_eq!(ops(&diff["changeset"]), ["create kitchen.lamp"]);
    let state = h.get("/v1/state?at=2").json_body();
    assert_eq!(ids(&state["entries"]), ["kitchen.lamp"]);
    let queried = h.get("/v1/state?at=2&where=.id=*").json_body();
    assert_eq!(ids(&queried["entries"]), ["kitchen.lamp"]);
    // Positive control.
    h.act_as(Principal::open());
    let diff = h.get("/v1/diff?from=0&to=2").json_body();
    assert_eq!(ops(&diff["changeset"]).len(), 2);
    assert_eq!(
        ids(&h.get("/v1/state?at=2&where=.id=*").json_body()["entries"]).len(),
        2
    );
}

#[test]
fn a_long_poll_on_every_register_wakes_only_for_the_scope() {
    let mut h = seeded();
    h.act_as(kitchen(Role::Consumer));
    let scoped = h.start("GET", "/consumer?wait=30s", "");
    h.act_as(Principal::open());
    let open = h.start("GET", "/consumer?wait=30s", "");
    assert!(matches!(scoped, Ticket::Held(_)) && matches!(open, Ticket::Held(_)));
    h.provide("garage.door", json!("open"));
    h.advance(1);
    assert!(
        h.result(&open).is_some(),
        "the unrestricted poll wakes (positive control)"
    );
    assert!(
        h.result(&scoped).is_none(),
        "a garage change must not wake the kitchen's poll"
    );
    h.provide("kitchen.lamp", json!("on"));
    h.advance(1);
    let answer = h
        .result(&scoped)
        .expect("a kitchen change wakes it")
        .json_body();
    assert_eq!(
        answer["registers"],
        json!({"kitchen.lamp": {"value": "on"}})
    );
}

#[test]
fn health_counts_only_for_a_token_that_sees_everything() {
    let mut h = seeded();
    h.act_as(Principal::open());
    let open = h.get("/v1/health").json_body();
    assert_eq!(
        (open["auth"].as_str(), open["entries"].as_u64()),
        (Some("open"), Some(2))
    );
    h.act_as(kitchen(Role::Consumer));
    let scoped = h.get("/v1/health").json_body();
    assert_eq!(scoped["auth"], "tokens");
    assert!(scoped.get("entries").is_none());
}

#[test]
fn a_provider_poll_naming_registers_out_of_scope_is_not_woken_by_their_requests() {
    let mut h = seeded();
    h.act_as(kitchen(Role::Provider));
    let scoped = h.start(
        "GET",
        "/provider?name=garage.door&name=kitchen.lamp&wait=30s",
        "",
    );
    h.act_as(Principal::open());
    let open = h.start("GET", "/provider?name=garage.door&wait=30s", "");
    h.put(
        "/consumer",
        r#"{"registers":{"garage.door":{"value":"open"}}}"#,
    );
    h.advance(1);
    let taken = h
        .result(&open)
        .expect("the unrestricted poll takes it (positive control)");
    assert_eq!(
        taken.json_body()["registers"]["garage.door"]["value"],
        "open"
    );
    assert!(
        h.result(&scoped).is_none(),
        "a garage request must not wake the kitchen's poll"
    );
    h.put(
        "/consumer",
        r#"{"registers":{"kitchen.lamp":{"value":"on"}}}"#,
    );
    h.advance(1);
    let taken = h
        .result(&scoped)
        .expect("a kitchen request wakes it")
        .json_body();
    assert_eq!(taken["registers"], json!({"kitchen.lamp": {"value": "on"}}));
}
