//! Property test: across random interleavings of writes, deletes, expiries and queries, the
//! cached result always equals an uncached evaluation of the current state; and a repeated
//! query at an unchanged version is a cache hit.

use proptest::prelude::*;
use registry_core::query::{find_uncached, parse::parse_criteria};
use registry_core::Limits;
use registry_tests::Harness;
use serde_json::json;

#[derive(Debug, Clone)]
enum Step {
    Put { id: u8, room: u8, data: u8 },
    Delete { id: u8 },
    Provide { id: u8, data: u8 },
    Advance { ms: u16 },
    Query { which: u8 },
}

const QUERIES: &[&[&str]] = &[
    &[".kind=config"],
    &["^meta.room=kit"],
    &["meta.room=hall", ".kind=config"],
    &["~.id=e[0-2]$"],
    &["*data=1"],
    &["data.n=2"],
    &["$.name=3"],
    &[".kind=register", "data=1"],
];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..6, 0u8..3, 0u8..4).prop_map(|(id, room, data)| Step::Put { id, room, data }),
        1 => (0u8..6).prop_map(|id| Step::Delete { id }),
        2 => (0u8..4, 0u8..3).prop_map(|(id, data)| Step::Provide { id, data }),
        1 => (0u16..3000).prop_map(|ms| Step::Advance { ms }),
        5 => (0u8..QUERIES.len() as u8).prop_map(|which| Step::Query { which }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn cached_results_equal_uncached_evaluation(steps in prop::collection::vec(step(), 1..60)) {
        // A tiny cache so that eviction happens too.
        let mut h = Harness::with_limits(Limits { query_cache_entries: 3, pattern_cache_entries: 2, ..Limits::default() });
        for s in &steps {
            match s {
                Step::Put { id, room, data } => {
                    let room = ["kitchen", "hall", "attic"][*room as usize];
                    let body = json!({"kind": "config", "meta": {"room": room}, "data": {"n": data}});
                    h.put(&format!("/v1/entries/ns:e{id}"), &body.to_string());
                }
                Step::Delete { id } => { h.call("DELETE", &format!("/v1/entries/ns:e{id}"), ""); }
                Step::Provide { id, data } => {
                    let body = json!({"registers": {format!("reg:r{id}"): {"value": data, "ttl": "1s"}}});
                    h.put("/provider", &body.to_string());
                }
                Step::Advance { ms } => h.advance(u64::from(*ms)),
                Step::Query { which } => {
                    let criteria = parse_criteria(QUERIES[*which as usize]).unwrap();
                    let cached = h.service_mut().find(&criteria).unwrap();
                    let uncached = find_uncached(&criteria, h.service().registry().entries()).unwrap();
                    prop_assert_eq!(&*cached, &uncached);
                    let hits = h.service().query_cache().hits;
                    let again = h.service_mut().find(&criteria).unwrap();
                    prop_assert_eq!(&*again, &uncached);
                    prop_assert_eq!(h.service().query_cache().hits, hits + 1, "a repeat at the same version hits");
                }
            }
        }
    }
}
