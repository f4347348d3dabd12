//! Instructions per write, for `valgrind --tool=callgrind` (issue 10, `docs/benchmarks.md`):
//! loads a service with 100 entries, then makes N single-update writes, either through
//! `Service::commit_changeset` (`commit`) or through `Service::handle` of
//! `PUT /v1/entries/{id}` (`put`). (Ir at N = 3000 − Ir at N = 1000) / 2000 = Ir per write.
//!
//! Run: `cargo build --release -p registry-core --example write_cost` then
//! `valgrind --tool=callgrind target/release/examples/write_cost <commit|put> <N>`
use registry_core::history::Op;
use registry_core::{Entry, HttpRequest, Limits, MemStore, Service};
use serde_json::json;
const ENTRIES: u64 = 100;
fn entry(i: u64, n: u64) -> Entry {
    Entry {
        id: format!("ns:e{i}"),
        kind: "config".into(),
        meta: Default::default(),
        data: json!({ "n": n }),
        ttl_ms: None,
        expires_at: None,
        version: 0,
    }
}
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n_ops: u64 = a[2].parse().unwrap();
    let mut svc = Service::load(MemStore::default(), Limits::default()).unwrap();
    for v in 0..ENTRIES {
        let _ = svc.commit_changeset(v, "bench", vec![Op::create(entry(v, v))]);
    }
    let mut n = ENTRIES;
    for _ in 0..n_ops {
        n += 1;
        if a[1] == "commit" {
            let i = n % ENTRIES;
            let r = svc.commit_changeset(n, "bench", vec![Op::update(entry(i, 0), entry(i, n))]);
            let _ = std::hint::black_box(r);
        } else {
            let body = format!(r#"{{"kind":"config","data":{{"n":{n}}}}}"#);
            let req = HttpRequest::new("PUT", &format!("/v1/entries/ns:e{}", n % ENTRIES), body);
            let _ = std::hint::black_box(svc.handle(&req, n));
        }
    }
    assert_eq!(svc.registry().head(), ENTRIES + n_ops);
}
