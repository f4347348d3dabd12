//! The check the query fuzz target runs on every input, shared with the test that replays kept
//! inputs (`tests/tests/query/fuzz_regressions.rs`): any input, split into criteria at
//! newlines, must parse or fail with a reason, and a parsed query's cached evaluation must equal
//! its uncached one over a fixed set of entries.

use registry_core::query::{find_uncached, parse::parse_criteria, QueryCache};
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
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    match parse_criteria(&lines) {
        Err(e) => assert!(!e.reason.is_empty(), "an error without a reason"),
        Ok(criteria) => {
            let entries = entries();
            let uncached = find_uncached(&criteria, entries.iter());
            let cached = QueryCache::new(4, 4).find(1, &criteria, entries.iter());
            match (uncached, cached) {
                (Ok(a), Ok(b)) => assert_eq!(a, *b),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("cached and uncached disagree: {a:?} vs {b:?}"),
            }
        }
    }
}
