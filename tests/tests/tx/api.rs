//! `POST /v1/tx`, listeners, `/v1/config` and `/v1/entries/{id}/dependencies` through the API
//! layer.

use std::cell::RefCell;
use std::rc::Rc;

use registry_core::history::Op;
use registry_core::listen::{Listener, TxContext};
use registry_tests::Harness;
use serde_json::{json, Value};

fn tx(h: &mut Harness, body: Value) -> (u16, Value) {
    let r = h.call("POST", "/v1/tx", &body.to_string());
    (r.status, r.json_body())
}

fn e(op: &str, id: &str, deps: &[&str]) -> Value {
    json!({"op": op, "id": id, "kind": "svc", "meta": {"depends_on": deps}, "data": {"n": id}})
}

#[test]
fn a_transaction_of_many_entries_is_one_version_in_dependency_order() {
    let mut h = Harness::new();
    let (status, body) = tx(
        &mut h,
        json!({"ops": [e("create", "app", &["db", "cache"]), e("create", "db", &["disk"]), e("create", "disk", &[]), e("create", "cache", &[])]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);
    let order = registry_tests::field(&body["changeset"], "id");
    assert_eq!(order, ["cache", "disk", "db", "app"]);
    assert_eq!(h.service().registry().head(), 1);
    assert_eq!(h.service().registry().len(), 4);
}

#[test]
fn conflicts_are_409_with_every_reason_and_write_nothing() {
    let mut h = Harness::new();
    tx(
        &mut h,
        json!({"ops": [e("create", "a", &[]), e("create", "b", &[])]}),
    );
    let commits = h.service().store().commits;
    let (status, body) = tx(
        &mut h,
        json!({"if_version": 7, "ops": [
            e("create", "a", &[]),
            e("update", "missing", &[]),
            {"op": "delete", "id": "b", "if_version": 9},
            e("upsert", "fine", &[]),
        ]}),
    );
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let reasons = body["error"]["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 4, "{body}");
    let ops: Vec<Value> = reasons.iter().map(|r| r["op"].clone()).collect();
    assert_eq!(ops, [Value::Null, json!(0), json!(1), json!(2)]);
    assert_eq!(h.service().store().commits, commits, "nothing was written");
    assert!(h.service().registry().get("fine").is_none());
}

#[test]
fn rejections_are_422_with_every_reason_and_write_nothing() {
    let mut h = Harness::new();
    tx(
        &mut h,
        json!({"ops": [e("create", "db", &[]), e("create", "app", &["db"])]}),
    );
    let head = h.service().registry().head();
    let before: Vec<_> = h.service().registry().entries().cloned().collect();
    let (status, body) = tx(
        &mut h,
        json!({"ops": [
            e("create", "web", &["nowhere", "also-missing"]),
            {"op": "delete", "id": "db"},
        ]}),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "rejected");
    let reasons = registry_tests::field(&body["error"]["reasons"], "reason");
    assert_eq!(
        reasons,
        [
            "web depends on missing also-missing, nowhere",
            "cannot delete db: app still depend on it"
        ]
    );
    assert_eq!(
        body["error"]["reasons"][0]["listener"],
        "dependency-integrity"
    );
    assert_eq!(body["error"]["reasons"][1]["op"], 1);
    assert_eq!(h.service().registry().head(), head);
    assert_eq!(
        h.service()
            .registry()
            .entries()
            .cloned()
            .collect::<Vec<_>>(),
        before
    );
}

#[test]
fn deleting_a_dependency_is_fine_when_its_dependents_go_or_move_too() {
    let mut h = Harness::new();
    tx(
        &mut h,
        json!({"ops": [e("create", "x", &[]), e("create", "a", &["x"]), e("create", "b", &["x"])]}),
    );
    let (status, body) = tx(
        &mut h,
        json!({"ops": [{"op": "delete", "id": "x"}, e("update", "a", &["y"]), e("create", "y", &[]), {"op": "delete", "id": "b"}]}),
    );
    assert_eq!(status, 200, "{body}");
    let order = registry_tests::ops(&body["changeset"]);
    assert_eq!(order, ["create y", "update a", "delete b", "delete x"]);
}

#[test]
fn a_cycle_is_rejected_by_name() {
    let mut h = Harness::new();
    let (status, body) = tx(
        &mut h,
        json!({"ops": [e("create", "a", &["b"]), e("create", "b", &["a"])]}),
    );
    assert_eq!(status, 422);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("a → b → a"),
        "{body}"
    );
    assert_eq!(h.service().registry().head(), 0);
}

#[test]
fn malformed_and_oversized_transactions_are_refused() {
    let mut h = Harness::new();
    for (b, status) in [
        (json!({}), 400),
        (
            json!({"ops": [{"op": "create", "id": "a", "data": 1}]}),
            400,
        ),
        (
            json!({"ops": [{"op": "create", "id": "a", "kind": "k"}]}),
            400,
        ),
        (
            json!({"ops": [{"op": "merge", "id": "a", "kind": "k", "data": 1}]}),
            400,
        ),
        (
            json!({"ops": [{"op": "delete", "id": "a", "data": 1}]}),
            400,
        ),
        (
            json!({"ops": [e("create", "a", &[]), e("upsert", "a", &[])]}),
            400,
        ),
        (json!({"ops": [e("create", "registry:config", &[])]}), 409),
        (json!({"ops": [], "extra": 1}), 400),
    ] {
        let (s, body) = tx(&mut h, b.clone());
        assert_eq!(s, status, "{b} → {body}");
    }
    let many: Vec<Value> = (0..1001)
        .map(|i| e("create", &format!("e{i}"), &[]))
        .collect();
    assert_eq!(tx(&mut h, json!({"ops": many})).0, 413);
    assert_eq!(h.service().registry().head(), 0);
    let (s, body) = tx(&mut h, json!({"ops": []}));
    assert_eq!(
        (s, body["changeset"].as_array().unwrap().len()),
        (200, 0),
        "an empty transaction is a no-op"
    );
}

#[test]
fn non_propagated_kinds_are_versioned_but_skip_listeners() {
    let mut h = Harness::new();
    let (status, body) = tx(
        &mut h,
        json!({"ops": [{"op": "create", "id": "req", "kind": "ns.requirement", "meta": {"depends_on": "missing"}, "data": 1}]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(h.service().registry().head(), 1);
}

#[test]
fn configuration_is_versioned_and_drives_patterns() {
    let mut h = Harness::new();
    let r = h.get("/v1/config").json_body();
    assert_eq!(
        r["config"]["dependency_patterns"],
        json!(["meta.depends_on"])
    );
    let put = json!({"config": {"dependency_patterns": ["data.routes.*.handler"], "non_propagated_kinds": [], "max_ops": 10}});
    let r = h.put("/v1/config", &put.to_string());
    assert_eq!(r.status, 200, "{}", r.json_body());
    assert_eq!(h.service().registry().head(), 1);
    let (status, body) = tx(
        &mut h,
        json!({"ops": [{"op": "create", "id": "router", "kind": "svc", "data": {"routes": [{"handler": "h"}]}}]}),
    );
    assert_eq!(
        (status, body["error"]["reasons"][0]["reason"].as_str()),
        (422, Some("router depends on missing h"))
    );
    let many: Vec<Value> = (0..11)
        .map(|i| e("create", &format!("e{i}"), &[]))
        .collect();
    assert_eq!(
        tx(&mut h, json!({"ops": many})).0,
        413,
        "max_ops from the config"
    );
    // Rolling back restores the previous configuration.
    assert_eq!(h.call("POST", "/v1/rollback", r#"{"to":0}"#).status, 200);
    assert_eq!(h.get("/v1/config").json_body()["config"]["max_ops"], 1000);
    for bad in [
        json!({"config": {"dependency_patterns": ["nope"]}}),
        json!({"config": {"max_ops": 0}}),
        json!({"config": {"colour": 1}}),
    ] {
        let r = h.put("/v1/config", &bad.to_string());
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(
        h.put(
            "/v1/entries/registry:config",
            r#"{"kind":"registry.entry","data":{}}"#
        )
        .status,
        409
    );
}

#[test]
fn dependency_information_both_ways() {
    let mut h = Harness::new();
    tx(
        &mut h,
        json!({"ops": [e("create", "db", &[]), e("create", "app", &["db"]), e("create", "job", &["db", "app"])]}),
    );
    let r = h.get("/v1/entries/app/dependencies").json_body();
    assert_eq!(
        r,
        json!({"id": "app", "needs": [{"id": "db", "exists": true}], "needed_by": ["job"]})
    );
    assert_eq!(
        h.get("/v1/entries/db/dependencies").json_body()["needed_by"],
        json!(["app", "job"])
    );
    assert_eq!(h.get("/v1/entries/nope/dependencies").status, 404);
    // Single-entry writes go through the listeners too.
    let r = h.call("DELETE", "/v1/entries/db", "");
    assert_eq!(r.status, 422);
    let r = h.put(
        "/v1/entries/x",
        r#"{"kind":"svc","meta":{"depends_on":"ghost"},"data":1}"#,
    );
    assert_eq!(r.status, 422);
}

#[derive(Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Listener for Log {
    fn name(&self) -> &str {
        "log"
    }
    fn begin(&mut self, _ctx: &TxContext<'_>) {
        self.0.borrow_mut().push("begin".into());
    }
    fn operation(&mut self, op: &Op, _ctx: &TxContext<'_>) -> Result<(), String> {
        self.0.borrow_mut().push(format!("{:?} {}", op.op, op.id));
        if op.id == "forbidden" {
            Err("forbidden is forbidden".into())
        } else {
            Ok(())
        }
    }
    fn commit(&mut self, version: u64) {
        self.0.borrow_mut().push(format!("commit {version}"));
    }
    fn discard(&mut self) {
        self.0.borrow_mut().push("discard".into());
    }
}

#[test]
fn listeners_see_begin_every_operation_and_commit_or_discard() {
    let mut h = Harness::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    h.service_mut().add_listener(Box::new(Log(log.clone())));
    tx(
        &mut h,
        json!({"ops": [e("create", "b", &[]), e("create", "a", &["b"])]}),
    );
    let (status, body) = tx(
        &mut h,
        json!({"ops": [e("create", "forbidden", &[]), e("update", "a", &[])]}),
    );
    assert_eq!(status, 422);
    assert_eq!(body["error"]["reasons"][0]["listener"], "log");
    assert_eq!(
        *log.borrow(),
        [
            "begin",
            "Create b",
            "Create a",
            "commit 1",
            "begin",
            "Update a",
            "Create forbidden",
            "discard"
        ]
    );
}
