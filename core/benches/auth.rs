//! Access control (issue 11): the cost of deciding one request at the entry (`authorize`:
//! credential extraction, the constant-time lookup against every configured token, role and
//! registry checks), with 3 and with 50 tokens, the used one last; and of the per-id filter.
//! Run: `cargo bench -p registry-core --bench auth`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use registry_core::auth::{authorize, AuthConfig, AuthRequest, CredentialSources};
use serde_json::json;

fn config(n: usize) -> (AuthConfig, String) {
    let tokens: Vec<_> = (0..n)
        .map(|i| {
            json!({"name": format!("t{i}"), "token": format!("{}-{i}", "x".repeat(40)),
                   "role": "provider", "registries": ["home", "lab-*"], "prefixes": ["kitchen."]})
        })
        .collect();
    let text = serde_json::to_string(&tokens).unwrap();
    (
        AuthConfig::parse(Some(&text)).unwrap(),
        format!("Bearer {}-{}", "x".repeat(40), n - 1),
    )
}

fn bench(c: &mut Criterion) {
    for n in [3, 50] {
        let (config, header) = config(n);
        c.bench_function(&format!("authorize_put_provider_{n}_tokens"), |b| {
            b.iter(|| {
                let req = AuthRequest {
                    registry: "lab-7",
                    method: "PUT",
                    path: "/provider",
                    credentials: CredentialSources {
                        authorization: Some(black_box(&header)),
                        ..Default::default()
                    },
                };
                authorize(black_box(&config), &req).unwrap()
            })
        });
    }
    let (config, _) = config(3);
    let principal = config.entries()[0].principal().clone();
    let ids: Vec<String> = (0..1000)
        .map(|i| format!("{}.e{i}", if i % 2 == 0 { "kitchen" } else { "garage" }))
        .collect();
    c.bench_function("may_read_1000_ids", |b| {
        b.iter(|| ids.iter().filter(|id| principal.may_read(id)).count())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
