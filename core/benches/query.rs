//! Query engine benchmarks (issue 5): a cached hit, and uncached glob and regex queries over
//! 100,000 entries. Run: `cargo bench -p registry-core --bench query`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use registry_core::history::Op;
use registry_core::query::{find_uncached, parse::parse_criteria};
use registry_core::{Entry, Limits, MemStore, Service};
use serde_json::json;

const N: usize = 100_000;
const ROOMS: [&str; 8] = [
    "kitchen", "hall", "attic", "garage", "bath", "office", "porch", "cellar",
];

fn registry() -> Service<MemStore> {
    // The engine at ten times the default entry bound (and past the state bound), as measured
    // before those bounds were lowered: the figures stay comparable.
    let limits = Limits {
        max_entries: N,
        max_state_bytes: usize::MAX,
        ..Limits::default()
    };
    let mut svc = Service::load(MemStore::default(), limits).unwrap();
    // 100 versions of 1,000 entries each.
    for chunk in 0..N / 1_000 {
        let ops = (0..1_000)
            .map(|j| {
                let i = chunk * 1_000 + j;
                let room = ROOMS[i % ROOMS.len()];
                Op::create(Entry {
                    id: format!("{room}:sensor-{i:06}"),
                    kind: if i % 3 == 0 {
                        "register".into()
                    } else {
                        "svc.http".into()
                    },
                    meta: json!({"room": room, "port": 8000 + (i % 100), "tags": ["a", "b"]})
                        .as_object()
                        .cloned()
                        .unwrap(),
                    data: json!({"value": i, "unit": "C"}),
                    ttl_ms: None,
                    expires_at: None,
                    version: 0,
                })
            })
            .collect();
        svc.commit_changeset(0, "bench", ops).value.unwrap();
    }
    svc
}

fn queries(c: &mut Criterion) {
    let mut svc = registry();
    let glob = parse_criteria(&[".kind=register", "meta.room=k*n", ".name=sensor-0*2"]).unwrap();
    let regex = parse_criteria(&["~.id=^(kitchen|hall):sensor-0[0-9]{4}7$"]).unwrap();
    let expected = find_uncached(&glob, svc.registry().entries()).unwrap();
    assert!(!expected.is_empty());
    assert!(!find_uncached(&regex, svc.registry().entries())
        .unwrap()
        .is_empty());

    let mut group = c.benchmark_group("query");
    // Fills the cache for the hit benchmark, with the uncached answer.
    assert_eq!(*svc.find(&glob).unwrap(), expected);
    group.bench_function("cached hit (3 criteria)", |b| {
        b.iter(|| black_box(svc.find(black_box(&glob)).unwrap()))
    });
    group.sample_size(20);
    group.bench_function("uncached glob over 100k entries", |b| {
        b.iter(|| black_box(find_uncached(black_box(&glob), svc.registry().entries()).unwrap()))
    });
    group.bench_function("uncached regex over 100k entries", |b| {
        b.iter(|| black_box(find_uncached(black_box(&regex), svc.registry().entries()).unwrap()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(3));
    targets = queries
}
criterion_main!(benches);
