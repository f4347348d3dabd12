//! How long the core takes to fan one write out to many watchers (the Rust side of the
//! WebSocket fan-out; sending is the host's). `cargo run --profile bench -p registry-core
//! --example fanout -- 1000`
use registry_core::{HttpRequest, Limits, MemStore, Service};
use std::time::Instant;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let mut svc = Service::load(MemStore::default(), Limits::default()).unwrap();
    for conn in 0..n {
        svc.open_session(conn, &Default::default()).value.unwrap();
        let watch = r#"{"type":"watch","watch":"w","names":["bench:x"]}"#;
        let _ = svc.on_message(conn, watch, 0);
    }
    let writes = 200;
    let mut bytes = 0;
    let t = Instant::now();
    for i in 0..writes {
        let body = format!(r#"{{"registers":{{"bench:x":{{"value":{i},"ttl":"1h"}}}}}}"#);
        let out = svc
            .handle(&HttpRequest::new("PUT", "/provider", body), 1)
            .effects
            .send;
        assert_eq!(out.len() as u64, n);
        bytes += out.iter().map(|m| m.text.len()).sum::<usize>();
    }
    let per = t.elapsed() / writes;
    println!(
        "{n} watchers: {per:?} per write ({} bytes per write)",
        bytes / writes as usize
    );
}
