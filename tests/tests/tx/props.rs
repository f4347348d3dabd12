//! Property tests over random dependency graphs and random transactions: every applied
//! operation finds its dependencies present at the moment it applies (and a delete leaves no
//! dependent behind that the transaction does not also change), and a refused transaction
//! leaves state and history byte-identical. Each case starts from a registry holding every id
//! (no dependencies), so commits — deletes among them — are common.

use std::collections::BTreeSet;

use proptest::prelude::*;
use registry_core::deps::{default_patterns, dependencies};
use registry_core::history::{apply, OpKind};
use registry_core::store::HistoryStore;
use registry_tests::Harness;
use serde_json::{json, Value};

const IDS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

fn op() -> impl Strategy<Value = (u8, u8, Vec<u8>)> {
    // (operation: 0 create, 1 update, 2 upsert, 3 delete; id; dependencies)
    let kind = prop_oneof![1 => Just(0u8), 1 => Just(1u8), 6 => Just(2u8), 2 => Just(3u8)];
    (kind, 0u8..8, prop::collection::vec(0u8..8, 0..3))
}

fn body(ops: &[(u8, u8, Vec<u8>)]) -> Value {
    let mut seen = BTreeSet::new();
    let ops: Vec<Value> = ops
        .iter()
        .filter(|(_, id, _)| seen.insert(*id))
        .map(|(kind, id, deps)| {
            let id = IDS[*id as usize];
            let deps: Vec<&str> = deps.iter().map(|d| IDS[*d as usize]).filter(|d| *d != id).collect();
            match kind {
                3 => json!({"op": "delete", "id": id}),
                k => {
                    let op = ["create", "update", "upsert"][*k as usize];
                    json!({"op": op, "id": id, "kind": "svc", "meta": {"depends_on": deps}, "data": deps.len()})
                }
            }
        })
        .collect();
    json!({"ops": ops})
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn applied_transactions_never_reference_missing_dependencies(txs in prop::collection::vec(prop::collection::vec(op(), 1..7), 1..12)) {
        let mut h = Harness::new();
        let patterns = default_patterns();
        // Every id exists from the start, without dependencies, so that commits of generated
        // transactions (deletes and updates included) are common rather than rare.
        let seed: Vec<Value> = IDS
            .iter()
            .map(|id| json!({"op": "create", "id": id, "kind": "svc", "meta": {"depends_on": []}, "data": 0}))
            .collect();
        let r = h.call("POST", "/v1/tx", &json!({"ops": seed}).to_string());
        prop_assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        prop_assert_eq!(h.service().registry().head(), 1);
        prop_assert_eq!(h.service().registry().entries().count(), IDS.len());
        for t in &txs {
            let head = h.service().registry().head();
            let before_entries: Vec<_> = h.service().registry().entries().cloned().collect();
            let commits = h.service().store().commits;
            let r = h.call("POST", "/v1/tx", &body(t).to_string());
            match r.status {
                200 => {
                    let new_head = h.service().registry().head();
                    if new_head == head { continue; }
                    prop_assert_eq!(new_head, head + 1, "one version per transaction");
                    let version = h.service().store().versions(new_head, new_head).unwrap().remove(0);
                    let mut state = h.service().state_at(head).unwrap();
                    let ops = &version.changeset;
                    for (i, op) in ops.iter().enumerate() {
                        apply(&mut state, std::slice::from_ref(op)).unwrap();
                        match op.op {
                            OpKind::Create | OpKind::Update => {
                                for d in dependencies(op.entry.as_ref().unwrap(), &patterns) {
                                    prop_assert!(state.contains_key(&d), "{} applied before its dependency {}", op.id, d);
                                }
                            }
                            OpKind::Delete => {
                                let later: BTreeSet<&str> = ops[i + 1..].iter().map(|o| o.id.as_str()).collect();
                                for (id, e) in &state {
                                    if dependencies(e, &patterns).contains(&op.id) {
                                        prop_assert!(later.contains(id.as_str()), "{} deleted while {} still depends on it", op.id, id);
                                    }
                                }
                            }
                        }
                    }
                    // The final state is consistent.
                    for e in state.values() {
                        for d in dependencies(e, &patterns) {
                            prop_assert!(state.contains_key(&d));
                        }
                    }
                }
                409 | 422 => {
                    prop_assert_eq!(h.service().registry().head(), head);
                    prop_assert_eq!(h.service().store().commits, commits, "nothing was written");
                    let after: Vec<_> = h.service().registry().entries().cloned().collect();
                    prop_assert_eq!(serde_json::to_string(&after).unwrap(), serde_json::to_string(&before_entries).unwrap());
                }
                other => prop_assert!(false, "unexpected status {}: {}", other, String::from_utf8_lossy(&r.body)),
            }
        }
    }
}
