//! Streams never leak: a query watch of everything by a principal scoped to `kitchen.` never
//! sees `garage.door` — in its snapshot, its backlog or live, over a socket or an event
//! stream, before and after hibernation — while an unrestricted watcher of the same
//! selection does (the positive control, which also proves the shared fan-out evaluation is
//! kept apart per scope). Each socket message is checked against the session's principal.

use registry_core::auth::{Principal, Role};
use registry_tests::Harness;
use serde_json::{json, Value};

use super::writes::{kitchen, seeded};

/// Every entry id a list of stream messages mentions (snapshots and changes).
fn seen(msgs: &[Value]) -> Vec<String> {
    let mut ids = Vec::new();
    for m in msgs {
        for item in m["entries"]
            .as_array()
            .into_iter()
            .chain(m["ops"].as_array())
            .flatten()
        {
            ids.push(item["id"].as_str().unwrap().to_string());
        }
    }
    ids
}

fn watch_all(h: &mut Harness, conn: u64, since: Option<u64>) {
    let mut msg = json!({"type": "watch", "watch": "all", "where": []});
    if let Some(s) = since {
        msg["since"] = json!(s);
    }
    h.send(conn, msg);
}

#[test]
fn a_watch_of_everything_sees_only_the_scope_in_snapshot_backlog_and_live() {
    let mut h = seeded();
    h.act_as(kitchen(Role::Consumer));
    h.connect(1); // snapshot
    h.connect(2); // backlog from 0
    h.open_sse(3, "", None).unwrap();
    h.act_as(Principal::open());
    h.connect(4); // the positive control
    watch_all(&mut h, 1, None);
    watch_all(&mut h, 2, Some(0));
    watch_all(&mut h, 4, None);
    assert_eq!(seen(&h.take(1)), ["kitchen.lamp"]);
    assert_eq!(seen(&h.take(2)), ["kitchen.lamp"]);
    assert_eq!(seen(&h.take(3)), ["kitchen.lamp"]);
    assert_eq!(seen(&h.take(4)), ["garage.door", "kitchen.lamp"]);
    // Live: one version touching both.
    h.call(
        "POST",
        "/v1/tx",
        r#"{"ops":[{"op":"upsert","id":"garage.door","kind":"register","data":"open"},{"op":"upsert","id":"kitchen.lamp","kind":"register","data":"on"}]}"#,
    );
    h.provide("garage.door", json!("closed"));
    for conn in [1, 2, 3] {
        assert_eq!(seen(&h.take(conn)), ["kitchen.lamp"], "connection {conn}");
    }
    assert_eq!(
        seen(&h.take(4)),
        ["garage.door", "kitchen.lamp", "garage.door"]
    );
    // After hibernation the sockets' sessions keep their principal.
    h.hibernate();
    h.provide("garage.door", json!("open"));
    h.provide("kitchen.lamp", json!("off"));
    assert_eq!(seen(&h.take(1)), ["kitchen.lamp"]);
    assert_eq!(seen(&h.take(4)), ["garage.door", "kitchen.lamp"]);
}

fn reply(h: &mut Harness, conn: u64, msg: Value) -> Value {
    h.send(conn, msg);
    let msgs = h.take(conn);
    msgs.into_iter()
        .find(|m| m["type"] == "ok" || m["type"] == "error")
        .expect("a reply")
}

#[test]
fn socket_messages_are_checked_against_the_session_principal() {
    let mut h = seeded();
    h.act_as(kitchen(Role::Provider));
    h.connect(1);
    let ok = reply(
        &mut h,
        1,
        json!({"type": "provide", "ref": 1, "registers": {"kitchen.kettle": {"value": 1}}}),
    );
    assert_eq!(ok["type"], "ok");
    let out = reply(
        &mut h,
        1,
        json!({"type": "provide", "ref": 2, "registers": {"garage.door": {"value": "open"}}}),
    );
    assert_eq!(out["error"]["code"], "forbidden");
    let out = reply(
        &mut h,
        1,
        json!({"type": "request", "ref": 3, "name": "garage.door", "value": 1}),
    );
    assert_eq!(out["error"]["code"], "forbidden");
    let out = reply(
        &mut h,
        1,
        json!({"type": "validate", "ref": 4, "validator": "v", "where": []}),
    );
    assert_eq!(out["error"]["code"], "forbidden");
    h.act_as(Principal::open());
    assert_eq!(
        h.registers("name=garage.door")["garage.door"]["value"],
        "closed"
    );
    // Positive control: an unrestricted admin's socket may validate.
    h.act_as(Principal::new("ops", Role::Admin, None, None));
    h.connect(2);
    let ok = reply(
        &mut h,
        2,
        json!({"type": "validate", "ref": 5, "validator": "v", "where": []}),
    );
    assert_eq!(ok["type"], "ok");
}
