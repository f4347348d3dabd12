//! Replays every input kept from fuzzing the query engine (`fuzz/regressions/query/`, plus the
//! seeds) through the fuzz target's own check.

use std::path::Path;

#[test]
fn every_kept_fuzz_input_still_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for dir in ["regressions/query", "seeds/query"] {
        for file in std::fs::read_dir(root.join(dir)).unwrap() {
            registry_tests::query_fuzz::check(&std::fs::read(file.unwrap().path()).unwrap());
            count += 1;
        }
    }
    assert!(count >= 6, "{count} inputs replayed");
}
