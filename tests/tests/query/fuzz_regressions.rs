//! Replays every input kept from fuzzing the query engine (`fuzz/regressions/query/`, plus the
//! seeds) with the same checks as the fuzz target: parse or a named error, and the cached
//! evaluation equals the uncached one.

use std::path::Path;

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
            json!({"room": "kitchen"}),
            json!(21.5),
        ),
        e(
            "svc:web",
            "svc.http",
            json!({"port": 8080}),
            json!({"routes": [{"handler": "x"}]}),
        ),
        e(
            "ünï:cødé",
            "note",
            json!({"deep": {"er": [1, [2, 3]]}}),
            json!("hello *? world"),
        ),
    ]
}

#[test]
fn every_kept_fuzz_input_still_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for dir in ["regressions/query", "seeds/query"] {
        for file in std::fs::read_dir(root.join(dir)).unwrap() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            let lines: Vec<&str> = text.split('\n').collect();
            count += 1;
            match parse_criteria(&lines) {
                Err(e) => assert!(!e.reason.is_empty()),
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
    }
    assert!(count >= 6, "{count} inputs replayed");
}
