//! Replays every input kept from fuzzing — the seeds (`fuzz/seeds/<target>/`) and the crashers
//! (`fuzz/regressions/<target>/`) — through the fuzz targets' own checks
//! (`registry_tests::fuzz::TARGETS`), natively, on every test run.
//!
//! A crasher whose defect is not fixed yet is listed in `fuzz/known-defects.txt`; it must
//! still fail its check (so the list never hides a fixed defect: once it passes, the line goes
//! and the input guards the fix like any other).

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use registry_tests::fuzz::{check_of, TARGETS};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|f| f.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// `target/file` of every input listed in `fuzz/known-defects.txt`.
fn known_defects() -> BTreeSet<String> {
    let text = std::fs::read_to_string(fuzz_dir().join("known-defects.txt")).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// Whether the check passes on the input (its panic message otherwise).
fn passes(check: fn(&[u8]), input: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| check(input))).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn every_target_has_a_check_and_seeds() {
    let on_disk: BTreeSet<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    let checked: BTreeSet<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, checked, "fuzz_targets/*.rs and TARGETS differ");
    for name in &checked {
        let seeds = files(&fuzz_dir().join("seeds").join(name));
        assert!(seeds.len() >= 4, "{name}: {} seeds", seeds.len());
    }
}

#[test]
fn every_kept_fuzz_input_still_passes() {
    let known = known_defects();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut count = 0;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (name, _) in TARGETS {
        let check = check_of(name);
        for kind in ["seeds", "regressions"] {
            for path in files(&fuzz_dir().join(kind).join(name)) {
                let file = path.file_name().unwrap().to_string_lossy();
                let key = format!("{name}/{file}");
                let outcome = passes(check, &std::fs::read(&path).unwrap());
                count += 1;
                match (known.contains(&key) && kind == "regressions", outcome) {
                    (false, Ok(())) => {}
                    (false, Err(e)) => failures.push(format!("{kind}/{key}: {e}")),
                    (true, Err(_)) => {
                        seen.insert(key);
                    }
                    (true, Ok(())) => failures.push(format!(
                        "regressions/{key} passes now: remove it from fuzz/known-defects.txt"
                    )),
                }
            }
        }
    }
    std::panic::set_hook(hook);
    let missing: Vec<_> = known.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "known defects without a regression input: {missing:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(count >= 60, "{count} inputs replayed");
}
