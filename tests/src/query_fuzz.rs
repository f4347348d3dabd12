//! The check the query fuzz target runs on every input, shared with the test that replays kept
//! inputs (`tests/tests/query/fuzz_regressions.rs`): any input, split into criteria at
//! newlines, must parse or fail with a reason, and a parsed query's cached evaluation must equal
//! its uncached one over a fixed set of entries, with one cache shared by the queries of an
//! input and a repeat that must hit it.

use registry_core::query::parse::{parse_criteria, Criterion};
use registry_core::query::{find_uncached, QueryCache};
use registry_core::Entry;
use serde_json::json;

fn entries() -> Vec<Entry> {
    let e = |id: &str, kind: &str, meta: serde_json::Value, data: serde_json::Value| Entry {
        id: id.into(),
        kind: kind.into(),
        meta: meta.as_object().cloned().unwrap_or_default(),
        data,
        ttl_ms: None,
        expires_at: None,
        version: 1,
    };
    vec![
        e(
            "kitchen:temp",
            "register",
            json!({"room": "kitchen", "unit": "C"}),
            json!(21.5),
        ),
        e(
            "svc:web",
            "svc.http",
            json!({"port": 8080, "tags": ["a", "b"]}),
            json!({"routes": [{"handler": "x"}]}),
        ),
        e(
            "ünï:cødé",
            "note",
            json!({"n": null, "deep": {"er": [1, [2, 3]]}}),
            json!("hello *? world"),
        ),
        e("", "k", json!({}), json!([true, false, null])),
    ]
}

/// Runs the check on one input; panics on a violation (which the fuzzer reports as a crash).
///
/// One cache serves every query of the input — each criterion alone, then all of them — so
/// results, canonical keys and compiled patterns are shared and evicted between queries (the
/// caches are kept small for that), and every answer must equal the uncached one. The whole
/// query is then asked again at the same version: a query that evaluated must now be a cache
/// hit with the same ids; one that failed is not cached and fails the same way again.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    match parse_criteria(&lines) {
        Err(e) => assert!(!e.reason.is_empty(), "an error without a reason"),
        Ok(criteria) => {
            let entries = entries();
            let mut cache = QueryCache::new(2, 2);
            for one in criteria.chunks(1) {
                ask(&mut cache, one, &entries);
            }
            let evaluated = ask(&mut cache, &criteria, &entries);
            let (hits, misses) = (cache.hits, cache.misses);
            let again = ask(&mut cache, &criteria, &entries);
            assert_eq!(again, evaluated, "the same query, the same outcome");
            if evaluated {
                assert_eq!(
                    (cache.hits, cache.misses),
                    (hits + 1, misses),
                    "a repeated query at the same version is a cache hit"
                );
            } else {
                assert_eq!(
                    (cache.hits, cache.misses),
                    (hits, misses + 1),
                    "a failed query is not cached"
                );
            }
        }
    }
}

/// One query through the shared cache, checked against the uncached evaluation; whether it
/// evaluated (rather than failed).
fn ask(cache: &mut QueryCache, query: &[Criterion], entries: &[Entry]) -> bool {
    let (hits, misses) = (cache.hits, cache.misses);
    let cached = cache.find(1, query, entries.iter());
    assert_eq!(
        cache.hits + cache.misses,
        hits + misses + 1,
        "one lookup counted once"
    );
    let uncached = find_uncached(query, entries.iter());
    match (&uncached, &cached) {
        (Ok(a), Ok(b)) => assert_eq!(a, &**b),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("cached and uncached disagree: {a:?} vs {b:?}"),
    }
    uncached.is_ok()
}
