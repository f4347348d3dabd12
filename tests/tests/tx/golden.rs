//! Golden ordering cases: see the header of `tests/testdata/order/basics.txt`.

use std::collections::BTreeMap;
use std::path::Path;

use registry_core::deps::{default_patterns, order, DepPattern};
use registry_core::history::Op;
use registry_core::Entry;

struct Case {
    name: String,
    patterns: Vec<DepPattern>,
    state: BTreeMap<String, Entry>,
    ops: Vec<Op>,
    expect: Result<Vec<String>, String>,
}

fn entry(json: &str) -> Entry {
    let mut v: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
    v["version"] = 1.into();
    serde_json::from_value(v).unwrap()
}

fn parse(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        if word == "case" {
            cases.push(Case {
                name: rest.into(),
                patterns: default_patterns(),
                state: BTreeMap::new(),
                ops: vec![],
                expect: Ok(vec![]),
            });
            continue;
        }
        let case = cases.last_mut().expect("a line before the first case");
        match word {
            "patterns" => {
                case.patterns = rest
                    .split_whitespace()
                    .map(|p| DepPattern::parse(p).unwrap())
                    .collect()
            }
            "state" => {
                let e = entry(rest);
                case.state.insert(e.id.clone(), e);
            }
            "create" => case.ops.push(Op::create(entry(rest))),
            "update" => {
                let e = entry(rest);
                let before = case.state[&e.id].clone();
                case.ops.push(Op::update(before, e));
            }
            "delete" => case.ops.push(Op::delete(case.state[rest].clone())),
            "expect" => case.expect = Ok(rest.split_whitespace().map(str::to_string).collect()),
            "error" => case.expect = Err(rest.to_string()),
            other => panic!("unknown line {other:?}"),
        }
    }
    cases
}

#[test]
fn golden_ordering_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/order");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut total = 0;
    for file in files {
        for case in parse(&std::fs::read_to_string(&file).unwrap()) {
            total += 1;
            let at = format!(
                "{}: {}",
                file.file_name().unwrap().to_string_lossy(),
                case.name
            );
            // The input order must not matter: try it as written and reversed.
            for ops in [case.ops.clone(), case.ops.iter().rev().cloned().collect()] {
                match (order(ops, &case.patterns), &case.expect) {
                    (Ok(ordered), Ok(ids)) => {
                        let got: Vec<String> = ordered.into_iter().map(|o| o.id).collect();
                        assert_eq!(&got, ids, "{at}");
                    }
                    (Err(e), Err(msg)) => assert_eq!(&e.to_string(), msg, "{at}"),
                    (got, want) => panic!("{at}: got {got:?}, want {want:?}"),
                }
            }
        }
    }
    assert!(total >= 15, "{total} cases");
}
