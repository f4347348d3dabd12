//! Property tests: random operation sequences through the API layer (so every mutation path —
//! register writes, TTL expiry, `/v1` writes and deletes, rollbacks — makes the versions), then
//! the laws checked against the stored history.

use proptest::prelude::*;
use registry_core::history::{apply, delta, reverse, same_content, squash, Changeset, Op, State};
use registry_core::store::HistoryStore;
use registry_core::{Entry, Limits};
use registry_tests::Harness;
use serde_json::json;

#[derive(Debug, Clone)]
enum Action {
    Provide {
        name: u8,
        value: u8,
        ttl_ms: u32,
    },
    Put {
        id: u8,
        kind: u8,
        data: u8,
    },
    Delete {
        id: u8,
    },
    Rollback {
        back: u8,
    },
    Advance {
        ms: u32,
    },
    /// Several operations in one changeset, ids repeating (create/update/delete as fits).
    Batch {
        ops: Vec<(u8, bool, u8)>,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0u8..5, 0u8..3, 100u32..3_000).prop_map(|(name, value, ttl_ms)| Action::Provide { name, value, ttl_ms }),
        4 => (0u8..6, 0u8..2, 0u8..3).prop_map(|(id, kind, data)| Action::Put { id, kind, data }),
        2 => (0u8..6).prop_map(|id| Action::Delete { id }),
        1 => (0u8..12).prop_map(|back| Action::Rollback { back }),
        2 => (0u32..2_000).prop_map(|ms| Action::Advance { ms }),
        2 => prop::collection::vec((0u8..4, any::<bool>(), 0u8..3), 1..6).prop_map(|ops| Action::Batch { ops }),
    ]
}

fn run(h: &mut Harness, a: &Action) {
    match a {
        Action::Provide {
            name,
            value,
            ttl_ms,
        } => {
            let body = json!({"registers": {format!("reg{name}"): {"value": value, "ttl": format!("{ttl_ms}ms")}}});
            assert_eq!(h.put("/provider", &body.to_string()).status, 204);
        }
        Action::Put { id, kind, data } => {
            let kind_name = ["config", "svc.http"][*kind as usize];
            let body = json!({"kind": kind_name, "data": {"n": data}, "meta": {"k": kind}});
            let r = h.put(&format!("/v1/entries/ns:e{id}"), &body.to_string());
            assert!(
                r.status == 200 || r.status == 201,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
        }
        Action::Delete { id } => {
            let r = h.call("DELETE", &format!("/v1/entries/ns:e{id}"), "");
            assert!(r.status == 200 || r.status == 404);
        }
        Action::Rollback { back } => {
            let head = h.service().registry().head();
            let to = head.saturating_sub(u64::from(*back));
            let r = h.call("POST", "/v1/rollback", &json!({"to": to}).to_string());
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        }
        Action::Advance { ms } => h.advance(u64::from(*ms)),
        Action::Batch { ops } => {
            let mut exists: std::collections::HashMap<String, bool> = Default::default();
            let mut changeset = Vec::new();
            for (id, delete, data) in ops {
                let id = format!("ns:e{id}");
                let present = *exists
                    .entry(id.clone())
                    .or_insert_with(|| h.service().registry().get(&id).is_some());
                let entry = Entry {
                    id: id.clone(),
                    kind: "config".into(),
                    meta: Default::default(),
                    data: json!({"batch": data}),
                    ttl_ms: None,
                    expires_at: None,
                    version: 0,
                };
                changeset.push(match (present, delete) {
                    (true, true) => Op::delete(entry),
                    (true, false) => Op::update(entry.clone(), entry),
                    (false, _) => Op::create(entry),
                });
                exists.insert(id, !(present && *delete));
            }
            let now = h.now();
            h.service_mut()
                .commit_changeset(now, "batch", changeset)
                .value
                .unwrap();
        }
    }
}

fn harness() -> Harness {
    Harness::with_limits(Limits {
        checkpoint_interval: 3,
        ..Limits::default()
    })
}

fn changesets(h: &Harness, from: u64, to: u64) -> Vec<Changeset> {
    let vs = h.service().store().versions(from, to).unwrap();
    assert_eq!(vs.len() as u64, to + 1 - from, "every version is stored");
    vs.into_iter().map(|v| v.changeset).collect()
}

fn contents_equal(a: &State, b: &State) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, ea), (kb, eb))| ka == kb && same_content(ea, eb))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn state_at_equals_replaying_from_empty(actions in prop::collection::vec(action(), 1..40)) {
        let mut h = harness();
        for a in &actions { run(&mut h, a); }
        let head = h.service().registry().head();
        let mut replayed = State::new();
        for v in 1..=head {
            for cs in changesets(&h, v, v) { apply(&mut replayed, &cs).unwrap(); }
            prop_assert_eq!(&h.service().state_at(v).unwrap(), &replayed, "version {}", v);
        }
        prop_assert_eq!(&h.service().registry().content_state(), &replayed);
    }

    #[test]
    fn squash_equals_applying_each_in_turn(actions in prop::collection::vec(action(), 1..40), cut in 0.0f64..1.0) {
        let mut h = harness();
        for a in &actions { run(&mut h, a); }
        let head = h.service().registry().head();
        prop_assume!(head >= 1);
        let from = ((head as f64) * cut) as u64;
        let css = changesets(&h, from + 1, head);
        let start = h.service().state_at(from).unwrap();
        let mut one_by_one = start.clone();
        for cs in &css { apply(&mut one_by_one, cs).unwrap(); }
        let squashed = squash(css.iter().map(Vec::as_slice)).unwrap();
        let mut at_once = start.clone();
        apply(&mut at_once, &squashed).unwrap();
        prop_assert_eq!(&at_once, &one_by_one);
        // Its inverse restores the start; so does the diff API backwards.
        apply(&mut at_once, &reverse(&squashed)).unwrap();
        prop_assert_eq!(&at_once, &start);
        let mut back = one_by_one.clone();
        apply(&mut back, &h.service().diff(head, from).unwrap()).unwrap();
        prop_assert!(contents_equal(&back, &start), "the diff API leads back to the start");
    }

    #[test]
    fn reverse_undoes_every_version(actions in prop::collection::vec(action(), 1..40)) {
        let mut h = harness();
        for a in &actions { run(&mut h, a); }
        let head = h.service().registry().head();
        for v in 1..=head {
            let before = h.service().state_at(v - 1).unwrap();
            let cs = &changesets(&h, v, v)[0];
            let mut s = before.clone();
            apply(&mut s, cs).unwrap();
            apply(&mut s, &reverse(cs)).unwrap();
            prop_assert_eq!(&s, &before);
        }
    }

    #[test]
    fn delta_turns_a_into_b(a_actions in prop::collection::vec(action(), 0..25), b_actions in prop::collection::vec(action(), 0..25)) {
        let mut ha = harness();
        for a in &a_actions { run(&mut ha, a); }
        let mut hb = harness();
        for a in &b_actions { run(&mut hb, a); }
        let (a, b) = (ha.service().registry().content_state(), hb.service().registry().content_state());
        let d = delta(&a, &b);
        let mut s = a.clone();
        apply(&mut s, &d).unwrap();
        prop_assert!(contents_equal(&s, &b));
        prop_assert!(delta(&b, &s).is_empty(), "delta leads exactly to b");
        // Minimal: it touches each id at most once, and never one whose content is the same in
        // both states.
        let touched: std::collections::BTreeSet<&str> = d.iter().map(|op| op.id.as_str()).collect();
        prop_assert_eq!(touched.len(), d.len(), "an id touched twice");
        for op in &d {
            if let (Some(ea), Some(eb)) = (a.get(&op.id), b.get(&op.id)) {
                prop_assert!(!same_content(ea, eb), "delta touches {}, unchanged between a and b", op.id);
            }
        }
    }

    #[test]
    fn rollback_restores_state_at(actions in prop::collection::vec(action(), 1..40), pick in 0.0f64..1.0) {
        let mut h = harness();
        for a in &actions { run(&mut h, a); }
        let head = h.service().registry().head();
        let to = ((head as f64) * pick) as u64;
        let target = h.service().state_at(to).unwrap();
        let r = h.call("POST", "/v1/rollback", &json!({"to": to}).to_string());
        prop_assert_eq!(r.status, 200);
        prop_assert!(contents_equal(&h.service().registry().content_state(), &target));
        let new_head = h.service().registry().head();
        prop_assert!(new_head == head || new_head == head + 1, "a rollback is at most one version");
    }

    #[test]
    fn reload_gives_identical_state_and_head(actions in prop::collection::vec(action(), 1..40)) {
        let mut h = harness();
        for a in &actions { run(&mut h, a); }
        let before: Vec<_> = h.service().registry().entries().cloned().collect();
        let meta = h.service().registry().meta();
        let history = changesets(&h, 1, meta.head);
        h.restart();
        let after: Vec<_> = h.service().registry().entries().cloned().collect();
        prop_assert_eq!(after, before);
        prop_assert_eq!(h.service().registry().meta(), meta);
        prop_assert_eq!(changesets(&h, 1, meta.head), history);
        // Writing after the reload continues the numbering: versions never repeat.
        run(&mut h, &Action::Put { id: 99, kind: 0, data: 7 });
        prop_assert_eq!(h.service().registry().head(), meta.head + 1);
    }
}
