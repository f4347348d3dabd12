//! Times single-operation commits in a plain loop (a quick check next to the criterion bench).
//! Run: `cargo run --profile bench -p registry-core --example commit_loop [N]` (N commits,
//! 200,000 by default; the bench profile is the optimised one, release is size-optimised).
use registry_core::history::Op;
use registry_core::{Entry, Limits, MemStore, Service};

fn entry(i: u64, n: u64) -> Entry {
    Entry {
        id: format!("ns:e{i}"),
        kind: "config".into(),
        meta: Default::default(),
        data: serde_json::json!({ "n": n }),
        ttl_ms: None,
        expires_at: None,
        version: 0,
    }
}

fn main() {
    let mut svc = Service::load(MemStore::default(), Limits::default()).unwrap();
    for i in 0..100 {
        svc.commit_changeset(0, "b", vec![Op::create(entry(i, 0))])
            .value
            .unwrap();
    }
    let t = std::time::Instant::now();
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    for k in 0..n {
        let i = k % 100;
        svc.commit_changeset(k, "b", vec![Op::update(entry(i, 0), entry(i, k))])
            .value
            .unwrap();
        if k == 9_999 {
            eprintln!("first 10k: {:?}/commit", t.elapsed() / 10_000);
        }
    }
    eprintln!("{n} commits: {:?}/commit", t.elapsed() / n as u32);
}
