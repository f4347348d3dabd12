//! MCP tools run as the caller: each is checked as the request it stands for (role, then the
//! registry's scope checks and read filters), so a token can do through MCP exactly what it
//! can do over HTTP.

use registry_core::auth::{Principal, Role};
use registry_tests::Harness;
use serde_json::json;

use super::mcp::{error_code, ok, post};

fn kitchen(role: Role) -> Principal {
    Principal::new("kitchen-pi", role, None, Some(vec!["kitchen.".into()]))
}

fn seeded() -> Harness {
    let mut h = Harness::new();
    h.provide("kitchen.lamp", json!("off"));
    h.provide("garage.door", json!("closed"));
    h
}

#[test]
fn a_consumer_reads_and_requests_but_cannot_write() {
    let mut h = seeded();
    let head = h.service().registry().head();
    h.act_as(Principal::new("viewer", Role::Consumer, None, None));
    let (_, list) = post(
        &mut h,
        &json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}),
    );
    assert_eq!(
        list["result"]["tools"].as_array().unwrap().len(),
        9,
        "listing is for all"
    );
    assert_eq!(
        ok(&mut h, "list_registers", json!({}))["registers"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    ok(
        &mut h,
        "request_change",
        json!({"name":"garage.door","value":"open"}),
    );
    ok(&mut h, "get_history", json!({}));
    for (tool, args) in [
        ("set_register", json!({"name":"garage.door","value":"open"})),
        (
            "transaction",
            json!({"ops":[{"op":"delete","id":"garage.door"}]}),
        ),
        ("rollback", json!({"to":0})),
    ] {
        assert_eq!(error_code(&mut h, tool, args), "forbidden", "{tool}");
    }
    assert_eq!(h.service().registry().head(), head, "nothing written");
}

#[test]
fn a_scoped_token_sees_and_changes_only_its_prefix() {
    let mut h = seeded();
    let head = h.service().registry().head();
    h.act_as(kitchen(Role::Admin));
    let regs = ok(&mut h, "list_registers", json!({}));
    assert_eq!(
        regs["registers"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["kitchen.lamp"]
    );
    let hidden = ok(&mut h, "get_register", json!({"name":"garage.door"}));
    assert_eq!(hidden, json!({"registers":{}}));
    let found = ok(&mut h, "find_entries", json!({"where":[".id=*"]}));
    assert_eq!(found["entries"].as_array().unwrap().len(), 1);
    let v2 = ok(&mut h, "get_history", json!({"version":2}));
    assert_eq!(
        v2["changeset"],
        json!([]),
        "version 2 wrote only garage.door"
    );
    let diff = ok(&mut h, "diff_versions", json!({"from":0,"to":head}));
    assert_eq!(diff["changeset"].as_array().unwrap().len(), 1);
    assert_eq!(
        error_code(
            &mut h,
            "set_register",
            json!({"name":"garage.door","value":"open"})
        ),
        "forbidden"
    );
    assert_eq!(
        error_code(
            &mut h,
            "request_change",
            json!({"name":"garage.door","value":"open"})
        ),
        "forbidden"
    );
    assert_eq!(
        error_code(
            &mut h,
            "transaction",
            json!({"ops":[{"op":"upsert","id":"kitchen.x","kind":"k","data":1},{"op":"delete","id":"garage.door"}]})
        ),
        "forbidden"
    );
    // Rollback concerns the whole registry: never for a prefix-restricted token.
    assert_eq!(error_code(&mut h, "rollback", json!({"to":0})), "forbidden");
    assert_eq!(h.service().registry().head(), head, "nothing written");
    // In scope, the same tools work, and versions carry the token's name.
    ok(
        &mut h,
        "set_register",
        json!({"name":"kitchen.lamp","value":"on","ttl":"1h"}),
    );
    ok(
        &mut h,
        "transaction",
        json!({"ops":[{"op":"upsert","id":"kitchen.x","kind":"k","data":1}]}),
    );
    h.act_as(Principal::open());
    let actors: Vec<String> = h.get("/v1/versions?limit=2").json_body()["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["actor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actors, ["kitchen-pi", "kitchen-pi"]);
}
