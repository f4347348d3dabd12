//! Dependency ordering (issue 4): a 10,000-operation changeset over a 10,000-entry dependency
//! graph (each entry depends on up to 3 others, no cycles), shuffled.
//! Run: `cargo bench -p registry-core --bench order`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use registry_core::deps::{default_patterns, order};
use registry_core::history::Op;
use registry_core::Entry;
use serde_json::json;

const N: usize = 10_000;

/// A small deterministic generator (xorshift), so every run orders the same graph.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn changeset() -> Vec<Op> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let id = |i: usize| format!("ns{}:e{i:05}", i % 10);
    let mut ops: Vec<Op> = (0..N)
        .map(|i| {
            // Dependencies only on lower indexes: a DAG.
            let deps: Vec<String> = if i == 0 {
                vec![]
            } else {
                (0..(rng.next() % 4))
                    .map(|_| id((rng.next() as usize) % i))
                    .collect()
            };
            Op::create(Entry {
                id: id(i),
                kind: "svc".into(),
                meta: json!({ "depends_on": deps }).as_object().cloned().unwrap(),
                data: json!(i),
                ttl_ms: None,
                expires_at: None,
                version: 0,
            })
        })
        .collect();
    for i in (1..ops.len()).rev() {
        let j = (rng.next() as usize) % (i + 1);
        ops.swap(i, j);
    }
    ops
}

fn bench(c: &mut Criterion) {
    let ops = changeset();
    let patterns = default_patterns();
    assert_eq!(order(ops.clone(), &patterns).unwrap().len(), N);
    c.bench_function("order 10k ops over a 10k-entry graph", |b| {
        b.iter_batched(
            || ops.clone(),
            |ops| black_box(order(ops, &patterns).unwrap()),
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
