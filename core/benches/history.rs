//! History benchmarks (issue 3), in memory (`MemStore`):
//! - single-operation commits per second, through `Service::commit_changeset` and through the
//!   full API path (`PUT /v1/entries/{id}`: routing, JSON decoding, validation, commit); the
//!   operations and requests are built outside the timed region (`iter_batched`);
//! - `state_at` latency at history lengths 1k, 10k and 100k, at the version farthest from any
//!   checkpoint (the worst case), to show the cost does not grow with history length.
//!
//! Run: `cargo bench -p registry-core --bench history`

use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput,
};
use registry_core::history::Op;
use registry_core::{Entry, HttpRequest, Limits, MemStore, Reply, Service};
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
        svc.commit_changeset(v, "bench", vec![op]).value.unwrap();
    }
    svc
}

/// The next single-update changeset of the round-robin, built outside the timed region: the
/// commit's time and one update of entry `n % ENTRIES` to data `n` (`n` then advances).
fn next_update(n: &mut u64) -> (u64, Vec<Op>) {
    let i = *n % ENTRIES;
    let op = Op::update(entry(i, 0), entry(i, *n));
    *n += 1;
    (*n, vec![op])
}

/// The next `PUT /v1/entries/{id}` of the round-robin (new data each time), built outside the
/// timed region, with the instant it is handled at.
fn next_put(n: &mut u64) -> (u64, HttpRequest) {
    *n += 1;
    let body = format!(r#"{{"kind":"config","data":{{"n":{n}}}}}"#);
    let req = HttpRequest::new("PUT", &format!("/v1/entries/ns:e{}", *n % ENTRIES), body);
    (*n, req)
}

fn commits(c: &mut Criterion) {
    let mut group = c.benchmark_group("commit");
    group.throughput(Throughput::Elements(1));
    let mut svc = service_with_history(ENTRIES);
    let mut n = ENTRIES;
    group.bench_function("commit_changeset (1 update)", |b| {
        b.iter_batched(
            || next_update(&mut n),
            |(at, ops)| black_box(svc.commit_changeset(at, "bench", ops).value.unwrap()),
            BatchSize::SmallInput,
        )
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
        b.iter_batched(
            || next_update(&mut n),
            |(at, ops)| black_box(svc.commit_changeset(at, "bench", ops).value.unwrap()),
            BatchSize::SmallInput,
        )
    });
    let mut svc = service_with_history(ENTRIES);
    // From ENTRIES on, every PUT changes its entry's data (entry i was created with data i).
    let mut n = ENTRIES;
    // The path benched is a successful write that makes a version: checked once, up front.
    let head = svc.registry().head();
    let (at, req) = next_put(&mut n);
    match svc.handle(&req, at).value {
        Reply::Respond(r) => assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body)),
        Reply::Wait { .. } => panic!("a PUT of an entry was held"),
    }
    assert_eq!(svc.registry().head(), head + 1, "the PUT made a version");
    group.bench_function("PUT /v1/entries/{id} (API path)", |b| {
        b.iter_batched(
            || next_put(&mut n),
            |(at, req)| black_box(svc.handle(&req, at)),
            BatchSize::SmallInput,
        )
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
