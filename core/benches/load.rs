//! Loading a registry (issue 14, cold start): what the core does with 10,000 stored entries
//! before it answers the first request.
//! - `parse_docs`: parsing them from the stored texts, 10 pages of 1,000 (`entry_doc`);
//! - `from_snapshot`: building the in-memory registry from them;
//! - `service_load`: the same through `Service::load` (configuration, dependency index; it
//!   includes `MemStore` copying its entries out, which a host's store does not do).
//!
//! Run: `cargo bench -p registry-core --bench load`

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use registry_core::{
    entry_doc, Commit, Entry, Limits, MemStore, Registry, Service, Snapshot, Store,
};

const ENTRIES: u64 = 10_000;
const PAGE: usize = 1_000;

/// Registers like the cold-start bench's (`bench/floor.mjs --fill-cold`), in id order, as the
/// worker's store reads them (its `entries` table is kept in id order).
fn entries() -> Vec<Entry> {
    let mut out: Vec<Entry> = (0..ENTRIES)
        .map(|i| Entry {
            id: format!("r:{i}"),
            kind: "register".into(),
            meta: Default::default(),
            data: (80_000 + i).into(),
            ttl_ms: Some(36_000_000_000),
            expires_at: Some(1_832_332_496_153 + i),
            version: 80_000 + i,
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn pages(entries: &[Entry]) -> Vec<String> {
    entries
        .chunks(PAGE)
        .map(|c| {
            let docs: Vec<String> = c.iter().map(entry_doc::to_doc).collect();
            format!("[{}]", docs.join(","))
        })
        .collect()
}

fn snapshot(entries: Vec<Entry>) -> Snapshot {
    Snapshot {
        entries,
        ..Default::default()
    }
}

fn load(c: &mut Criterion) {
    let entries = entries();
    let pages = pages(&entries);
    let mut g = c.benchmark_group("load_10k");
    g.sample_size(20);
    g.bench_function("parse_docs", |b| {
        b.iter(|| {
            let mut all = Vec::with_capacity(ENTRIES as usize);
            for p in &pages {
                entry_doc::parse_docs_into(black_box(p.as_bytes()), &mut all).unwrap();
            }
            all
        })
    });
    g.bench_function("from_snapshot", |b| {
        b.iter_batched(
            || snapshot(entries.clone()),
            Registry::from_snapshot,
            BatchSize::LargeInput,
        )
    });
    g.bench_function("service_load", |b| {
        b.iter_batched(
            || {
                let mut store = MemStore::default();
                let commit = Commit {
                    put_entries: entries.clone(),
                    ..Default::default()
                };
                store.commit(&commit).unwrap();
                store
            },
            |store| Service::load(store, Limits::default()).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
