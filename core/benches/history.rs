//! History benchmarks (issue 3), in memory (`MemStore`):
//! - single-operation commits per second, through `Service::commit_changeset` and through the
//!   full API path (`PUT /v1/entries/{id}`: routing, JSON decoding, validation, commit);
//! - `state_at` latency at history lengths 1k, 10k and 100k, at the version farthest from any
//!   checkpoint (the worst case), to show the cost does not grow with history length.
//!
//! Run: `cargo bench -p registry-core --bench history`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
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

/// A service whose history has `versions` single-entry versions over `ENTRIES` entries.
fn service_with_history(versions: u64) -> Service<MemStore> {
    service_with(versions, Limits::default())
}

fn service_with(versions: u64, limits: Limits) -> Service<MemStore> {
    let mut svc = Service::load(MemStore::default(), limits).unwrap();
    for v in 0..versions {
        let i = v % ENTRIES;
        let op = if v < ENTRIES {
            Op::create(entry(i, v))
        } else {
            Op::update(entry(i, v - ENTRIES), entry(i, v))
        };
        svc.commit_changeset(v, "bench", vec![op]).unwrap();
    }
    svc
}

fn commits(c: &mut Criterion) {
    let mut group = c.benchmark_group("commit");
    group.throughput(Throughput::Elements(1));
    let mut svc = service_with_history(ENTRIES);
    let mut n = ENTRIES;
    group.bench_function("commit_changeset (1 update)", |b| {
        b.iter(|| {
            let i = n % ENTRIES;
            let op = Op::update(entry(i, 0), entry(i, n));
            n += 1;
            black_box(svc.commit_changeset(n, "bench", vec![op]).unwrap())
        })
    });
    // The same with retention: memory stays bounded however long the benchmark runs (without
    // it, every iteration adds a version the in-memory store keeps forever).
    let retained = Limits {
        max_versions: Some(10_000),
        ..Limits::default()
    };
    let mut svc = service_with(ENTRIES, retained);
    let mut n = ENTRIES;
    group.bench_function("commit_changeset (1 update, retention 10k)", |b| {
        b.iter(|| {
            let i = n % ENTRIES;
            let op = Op::update(entry(i, 0), entry(i, n));
            n += 1;
            black_box(svc.commit_changeset(n, "bench", vec![op]).unwrap())
        })
    });
    let mut svc = service_with_history(ENTRIES);
    let mut n = 0u64;
    group.bench_function("PUT /v1/entries/{id} (API path)", |b| {
        b.iter(|| {
            n += 1;
            let body = format!(r#"{{"kind":"config","data":{{"n":{n}}}}}"#);
            let req = HttpRequest::new("PUT", &format!("/v1/entries/ns:e{}", n % ENTRIES), body);
            black_box(svc.handle(&req, n))
        })
    });
    group.finish();
}

fn state_at(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_at");
    let interval = Limits::default().checkpoint_interval;
    for versions in [1_000u64, 10_000, 100_000] {
        let svc = service_with_history(versions);
        // Halfway between two checkpoints, far from the head: the longest replay there is.
        let v = (versions / 2 / interval) * interval + interval / 2;
        group.bench_with_input(BenchmarkId::from_parameter(versions), &v, |b, &v| {
            b.iter(|| black_box(svc.state_at(v).unwrap()))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = commits, state_at
}
criterion_main!(benches);
