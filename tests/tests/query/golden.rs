//! Golden files: `entry <json>` lines build the registry; each `query` (criteria on the indented
//! lines after it) expects either `expect <ids…>` (in id order) or `error <criterion>` (a 400
//! `invalid_criterion` naming that criterion, and nothing else changes).

use std::path::Path;

use registry_core::query::{find_uncached, parse::parse_criteria};
use registry_tests::Harness;
use serde_json::{json, Value};

enum Expect {
    Ids(Vec<String>),
    Error(String),
}

struct Case {
    line: usize,
    criteria: Vec<String>,
    expect: Expect,
}

fn parse_file(text: &str) -> (Vec<Value>, Vec<Case>) {
    let mut entries = Vec::new();
    let mut cases = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("entry ") {
            entries
                .push(serde_json::from_str(rest).unwrap_or_else(|e| panic!("line {}: {e}", i + 1)));
        } else if line == "query" {
            current = Some((i + 1, Vec::new()));
        } else if let Some(c) = line.strip_prefix("  ") {
            current
                .as_mut()
                .expect("criterion outside a query")
                .1
                .push(c.to_string());
        } else if let Some(rest) = line.strip_prefix("expect") {
            let (line, criteria) = current.take().expect("expect without query");
            let ids = rest.split_whitespace().map(str::to_string).collect();
            cases.push(Case {
                line,
                criteria,
                expect: Expect::Ids(ids),
            });
        } else if let Some(rest) = line.strip_prefix("error ") {
            let (line, criteria) = current.take().expect("error without query");
            cases.push(Case {
                line,
                criteria,
                expect: Expect::Error(rest.to_string()),
            });
        } else {
            panic!("line {}: cannot read {line:?}", i + 1);
        }
    }
    assert!(current.is_none(), "a query without expect/error at the end");
    (entries, cases)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn run_file(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let (entries, cases) = parse_file(&text);
    let mut h = Harness::new();
    for e in &entries {
        let id = e["id"].as_str().unwrap();
        let body = json!({"kind": e["kind"], "meta": e["meta"], "data": e["data"]});
        let r = h.put(&format!("/v1/entries/{}", encode(id)), &body.to_string());
        assert_eq!(r.status, 201, "{}: entry {id}", path.display());
    }
    let name = path.file_name().unwrap().to_string_lossy();
    for case in &cases {
        let query: Vec<String> = case
            .criteria
            .iter()
            .map(|c| format!("where={}", encode(c)))
            .collect();
        let r = h.get(&format!("/v1/entries?limit=1000&{}", query.join("&")));
        let body = r.json_body();
        let at = format!("{name}:{} {:?}", case.line, case.criteria);
        match &case.expect {
            Expect::Ids(ids) => {
                assert_eq!(r.status, 200, "{at}: {body}");
                let got = registry_tests::field(&body["entries"], "id");
                assert_eq!(got, *ids, "{at}");
                // The engine without its cache agrees, and so does the same query at a version.
                let criteria = parse_criteria(&case.criteria).unwrap();
                let uncached = find_uncached(&criteria, h.service().registry().entries()).unwrap();
                assert_eq!(uncached, *ids, "{at} (uncached)");
                let head = h.service().registry().head();
                let at_head = h.get(&format!(
                    "/v1/state?at={head}&limit=1000&{}",
                    query.join("&")
                ));
                assert_eq!(at_head.status, 200, "{at} (state at head)");
                let got = registry_tests::field(&at_head.json_body()["entries"], "id");
                assert_eq!(got, *ids, "{at} (state at head)");
            }
            Expect::Error(criterion) => {
                assert_eq!(r.status, 400, "{at}: {body}");
                assert_eq!(body["error"]["code"], "invalid_criterion", "{at}");
                let message = body["error"]["message"].as_str().unwrap();
                let named = format!("{criterion:?}");
                assert!(
                    message.contains(&named),
                    "{at}: {message} does not name {named}"
                );
            }
        }
    }
    cases.len()
}

#[test]
fn golden_query_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/query");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let total: usize = files.iter().map(|f| run_file(f)).sum();
    assert!(
        files.len() >= 3 && total >= 60,
        "{} files, {total} cases",
        files.len()
    );
}

#[test]
fn the_same_filter_works_on_past_states() {
    let mut h = Harness::new();
    h.put(
        "/v1/entries/a",
        r#"{"kind":"k","meta":{"room":"kitchen"},"data":1}"#,
    );
    h.put(
        "/v1/entries/a",
        r#"{"kind":"k","meta":{"room":"hall"},"data":1}"#,
    );
    let now = h.get("/v1/entries?where=meta.room%3Dkitchen").json_body();
    assert_eq!(now["entries"].as_array().unwrap().len(), 0);
    let then = h
        .get("/v1/state?at=1&where=meta.room%3Dkitchen")
        .json_body();
    assert_eq!(then["entries"][0]["id"], "a");
}

#[test]
fn filtered_results_are_paged_by_id() {
    let mut h = Harness::new();
    for i in 0..7 {
        h.put(&format!("/v1/entries/e{i}"), r#"{"kind":"k","data":1}"#);
    }
    h.put("/v1/entries/other", r#"{"kind":"x","data":1}"#);
    let p1 = h.get("/v1/entries?where=.kind%3Dk&limit=3").json_body();
    let ids = |p: &Value| registry_tests::field(&p["entries"], "id");
    assert_eq!(ids(&p1), ["e0", "e1", "e2"]);
    let p2 = h
        .get(&format!(
            "/v1/entries?where=.kind%3Dk&limit=3&cursor={}",
            p1["next_cursor"].as_str().unwrap()
        ))
        .json_body();
    assert_eq!(ids(&p2), ["e3", "e4", "e5"]);
    let p3 = h
        .get(&format!(
            "/v1/entries?where=.kind%3Dk&limit=3&cursor={}",
            p2["next_cursor"].as_str().unwrap()
        ))
        .json_body();
    assert_eq!(ids(&p3), ["e6"]);
    assert_eq!(p3["next_cursor"], Value::Null);
}

#[test]
fn an_overlong_criterion_of_multibyte_characters_is_a_clean_400() {
    // Byte 64 falls inside a character: the error quotes the criterion up to a boundary.
    let mut h = Harness::new();
    let criterion = format!("data={}", "é".repeat(600));
    let r = h.get(&format!("/v1/entries?where={}", encode(&criterion)));
    assert_eq!(r.status, 400);
    assert_eq!(r.json_body()["error"]["code"], "invalid_criterion");
    assert!(r.json_body()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("longer than 1024 bytes"));
}
