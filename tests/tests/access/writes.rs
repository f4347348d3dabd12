//! Writes, change requests and verdicts: in scope they work and record the token's name as
//! the actor; out of scope they are one 403 that changes nothing and tells nothing.

use registry_core::auth::{Principal, Role};
use registry_tests::Harness;
use serde_json::json;

pub fn kitchen(role: Role) -> Principal {
    Principal::new("kitchen-pi", role, None, Some(vec!["kitchen.".into()]))
}

pub fn ops() -> Principal {
    Principal::new("ops", Role::Admin, None, None)
}

/// A registry holding `kitchen.lamp` and `garage.door` (written in open mode).
pub fn seeded() -> Harness {
    let mut h = Harness::new();
    h.provide("kitchen.lamp", json!("off"));
    h.provide("garage.door", json!("closed"));
    h
}

fn head(h: &mut Harness) -> u64 {
    h.act_as(ops());
    h.get("/v1/health").json_body()["version"].as_u64().unwrap()
}

fn assert_forbidden(r: &registry_core::api::HttpResponse) {
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body()["error"]["code"], "forbidden");
}

#[test]
fn a_scoped_provider_publishes_in_scope_only_and_versions_carry_its_name() {
    let mut h = seeded();
    let before = head(&mut h);
    h.act_as(kitchen(Role::Provider));
    let ok = h.put(
        "/provider",
        r#"{"registers":{"kitchen.kettle":{"value":1}}}"#,
    );
    assert_eq!(ok.status, 204);
    // One name out of scope refuses the whole write: the in-scope one is not written either.
    let mixed = h.put(
        "/provider",
        r#"{"registers":{"kitchen.oven":{"value":1},"garage.door":{"value":"open"}}}"#,
    );
    assert_forbidden(&mixed);
    assert_eq!(head(&mut h), before + 1);
    let versions = h.get("/v1/versions?limit=1").json_body();
    assert_eq!(versions["versions"][0]["actor"], "kitchen-pi");
    assert_eq!(
        h.registers("name=garage.door")["garage.door"]["value"],
        "closed"
    );
    assert!(h
        .registers("name=kitchen.oven")
        .get("kitchen.oven")
        .is_none());
    // Open mode keeps the endpoint's actor (positive control of the actor rule).
    h.act_as(Principal::open());
    h.provide("kitchen.kettle", json!(2));
    let versions = h.get("/v1/versions?limit=1").json_body();
    assert_eq!(versions["versions"][0]["actor"], "provider");
}

#[test]
fn a_consumer_may_not_publish_and_a_provider_may_not_write_v1_entries() {
    let mut h = seeded();
    let before = head(&mut h);
    h.act_as(Principal::new("panel", Role::Consumer, None, None));
    assert_forbidden(&h.put("/provider", r#"{"registers":{"kitchen.x":{"value":1}}}"#));
    h.act_as(kitchen(Role::Provider));
    assert_forbidden(&h.put("/v1/entries/kitchen.x", r#"{"kind":"k","data":1}"#));
    assert_forbidden(&h.call(
        "POST",
        "/v1/tx",
        r#"{"ops":[{"op":"delete","id":"kitchen.lamp"}]}"#,
    ));
    assert_eq!(head(&mut h), before);
}

#[test]
fn a_scoped_admin_writes_entries_in_scope_and_out_of_scope_tells_nothing() {
    let mut h = seeded();
    let before = head(&mut h);
    h.act_as(kitchen(Role::Admin));
    let put = h.put(
        "/v1/entries/kitchen.scene",
        r#"{"kind":"scene","data":{"on":true}}"#,
    );
    assert_eq!(put.status, 201);
    // A create of an existing entry out of scope is the same 403 as one of a missing entry:
    // not the 409 that would say it exists.
    let existing = h.call(
        "POST",
        "/v1/tx",
        r#"{"ops":[{"op":"create","id":"garage.door","kind":"k","data":1}]}"#,
    );
    let missing = h.call(
        "POST",
        "/v1/tx",
        r#"{"ops":[{"op":"create","id":"garage.nothing","kind":"k","data":1}]}"#,
    );
    assert_forbidden(&existing);
    assert_eq!(existing.body, missing.body);
    assert_forbidden(&h.call("DELETE", "/v1/entries/garage.door", ""));
    assert_forbidden(&h.call("DELETE", "/v1/entries/garage.nothing", ""));
    // A transaction with one operation out of scope changes nothing.
    let mixed = h.call(
        "POST",
        "/v1/tx",
        r#"{"ops":[{"op":"create","id":"kitchen.a","kind":"k","data":1},{"op":"delete","id":"garage.door"}]}"#,
    );
    assert_forbidden(&mixed);
    // Whole-registry actions need an admin without prefixes.
    assert_forbidden(&h.call("POST", "/v1/rollback", r#"{"to":0}"#));
    assert_forbidden(&h.put("/v1/config", r#"{"config":{}}"#));
    assert_forbidden(&h.put("/v1/entries/registry:config", r#"{"kind":"k","data":1}"#));
    assert_eq!(head(&mut h), before + 1);
    // Positive control: the unrestricted admin does all of it.
    h.act_as(ops());
    assert_eq!(h.call("DELETE", "/v1/entries/garage.door", "").status, 200);
    assert_eq!(h.call("POST", "/v1/rollback", r#"{"to":0}"#).status, 200);
}

#[test]
fn change_requests_and_verdicts_are_scoped() {
    let mut h = seeded();
    let consumer = Principal::new("panel", Role::Consumer, None, Some(vec!["kitchen.".into()]));
    h.act_as(consumer.clone());
    assert_eq!(
        h.put(
            "/consumer",
            r#"{"registers":{"kitchen.lamp":{"value":"on"}}}"#
        )
        .status,
        202
    );
    assert_forbidden(&h.put(
        "/consumer",
        r#"{"registers":{"garage.door":{"value":"open"}}}"#,
    ));
    assert_forbidden(&h.call(
        "POST",
        "/v1/requests",
        r#"{"name":"garage.door","value":1}"#,
    ));
    // A request for the garage made by someone who may.
    h.act_as(ops());
    let garage = h.call(
        "POST",
        "/v1/requests",
        r#"{"name":"garage.door","value":"open"}"#,
    );
    assert_eq!(garage.status, 202);
    let garage_id = garage.json_body()["request"].as_u64().unwrap();
    h.act_as(consumer);
    assert_forbidden(&h.get(&format!("/v1/requests/{garage_id}")));
    // The kitchen provider takes only kitchen requests, even naming no register.
    h.act_as(kitchen(Role::Provider));
    let taken = h.get("/provider");
    assert_eq!(taken.status, 200);
    let names: Vec<String> = taken.json_body()["registers"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(names, ["kitchen.lamp"]);
    // And may not answer the garage's.
    assert_forbidden(&h.call(
        "POST",
        &format!("/v1/requests/{garage_id}/verdict"),
        r#"{"accept":true}"#,
    ));
    // Positive control: the garage request is still there for an unrestricted provider.
    h.act_as(Principal::new("any", Role::Provider, None, None));
    let taken = h.get("/provider").json_body();
    assert_eq!(taken["registers"]["garage.door"]["value"], "open");
}
