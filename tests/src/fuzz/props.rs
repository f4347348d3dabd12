//! The properties every fuzzed request or message must keep, whatever its input:
//!
//! - no answer is a 5xx (a server failure caused by client input is a defect);
//! - every error is `{"error":{"code","message"}}` with a status in 400..=599, every other
//!   non-empty body is JSON;
//! - a refused request (4xx) changes nothing: the store (state, history, commit count) is
//!   byte-for-byte what it was;
//! - whatever was acknowledged is durable: the service's in-memory state equals what a fresh
//!   `Service::load` of its store gives (no acknowledged write lost, nothing unwritten shown).
//!
//! The registry they run on is a fixed, realistic one ([`fixture`]).

use std::sync::OnceLock;

use registry_core::store::HistoryStore;
use registry_core::{HttpResponse, MemStore, Millis, Snapshot, Store};
use serde_json::Value;

use super::core_api::{self, Answer, Svc};

/// When the fixture was written (the harness's simulated epoch).
pub const FIXTURE_AT: Millis = crate::EPOCH;
/// When fuzzed input arrives: everything the fixture wrote is still live.
pub const NOW: Millis = FIXTURE_AT + 1_000;
/// The longest `wait` the service holds a poll for (`Limits::max_wait_ms`).
const MAX_WAIT_MS: Millis = 60_000;
/// Error codes the core uses for its own failures (5xx); a stream error reply carries no status,
/// so these codes are how a server failure shows there.
const SERVER_CODES: &[&str] = &[
    "internal",
    "storage_error",
    "history_corrupt",
    "unknown_waiter",
];

/// Writes that make the fixture: registers with metadata and TTLs, `/v1` entries with a
/// dependency, a transaction, a pending change request (id 1) and a delivered one (id 2).
const FIXTURE: &[(&str, &str, &str)] = &[
    (
        "PUT",
        "/provider",
        r#"{"registers":{"kitchen:temp":{"value":21.5,"metadata":{"unit":"C","room":"kitchen"},"ttl":"10s"},"lamp":{"value":false,"ttl":"1h"}}}"#,
    ),
    (
        "PUT",
        "/v1/entries/app:db",
        r#"{"kind":"svc","data":{"port":5432}}"#,
    ),
    (
        "POST",
        "/v1/tx",
        r#"{"ops":[{"op":"create","id":"app:web","kind":"svc","meta":{"depends_on":"db"},"data":{"routes":[{"handler":"x"}]}},{"op":"upsert","id":"note","kind":"note","data":"hello *? world","ttl":"1h"}]}"#,
    ),
    (
        "PUT",
        "/consumer",
        r#"{"registers":{"lamp":{"value":true}}}"#,
    ),
    (
        "POST",
        "/v1/requests",
        r#"{"name":"kitchen:temp","value":22}"#,
    ),
    ("GET", "/provider?name=kitchen:temp", ""),
];

/// A fresh service over a copy of the fixture's store, with everything due at [`NOW`] run.
pub fn fixture() -> Svc {
    static STORE: OnceLock<MemStore> = OnceLock::new();
    let store = STORE.get_or_init(|| {
        let mut svc = core_api::load(MemStore::default());
        for (method, target, body) in FIXTURE {
            match core_api::handle(&mut svc, method, target, body.as_bytes(), FIXTURE_AT) {
                Answer::Now(r) if (200..300).contains(&r.status) => {}
                other => panic!("fixture {method} {target}: {other:?}"),
            }
        }
        svc.store().clone()
    });
    let mut svc = core_api::load(store.clone());
    core_api::settle(&mut svc, NOW);
    svc
}

/// Everything a request could change, as stored.
#[derive(Debug, PartialEq)]
pub struct Stored {
    snapshot: Snapshot,
    versions: Vec<registry_core::history::Version>,
    commits: u64,
}

/// What the store holds now.
pub fn stored(svc: &Svc) -> Stored {
    let store = svc.store();
    Stored {
        snapshot: store.load().expect("a memory store loads"),
        versions: store.versions(0, u64::MAX).expect("memory history reads"),
        commits: store.commits,
    }
}

/// The error object of an error body, checked for its shape; `what` names the input.
fn error_object<'a>(doc: &'a Value, what: &str) -> &'a Value {
    let error = doc
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("error"))
        .unwrap_or_else(|| panic!("{what}: an error body is {{\"error\":{{…}}}}, got {doc}"));
    for key in ["code", "message"] {
        let text = error.get(key).and_then(Value::as_str);
        assert!(
            text.is_some_and(|t| !t.is_empty()),
            "{what}: the error has no {key}: {doc}"
        );
    }
    error
}

/// Checks one HTTP answer's shape; panics on a 5xx.
pub fn check_response(r: &HttpResponse, what: &str) {
    assert!(
        (200..600).contains(&r.status),
        "{what}: status {}",
        r.status
    );
    let doc: Option<Value> = (!r.body.is_empty()).then(|| {
        serde_json::from_slice(&r.body).unwrap_or_else(|e| {
            panic!(
                "{what}: body is not JSON ({e}): {}",
                String::from_utf8_lossy(&r.body)
            )
        })
    });
    if r.status >= 400 {
        let doc = doc.unwrap_or_else(|| panic!("{what}: error {} without a body", r.status));
        error_object(&doc, what);
    }
    assert!(
        r.status < 500,
        "{what}: a 5xx for client input: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
}

/// Checks one stream message sent by the service; returns its `type`, and its error code for
/// an `error`.
pub fn check_stream_message(text: &str, what: &str) -> (String, Option<String>) {
    let doc: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: a stream message is not JSON ({e}): {text}"));
    let kind = doc["type"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: a stream message without a type: {text}"))
        .to_string();
    if kind != "error" {
        return (kind, None);
    }
    let mut body = doc.as_object().cloned().unwrap_or_default();
    body.retain(|k, _| k == "error");
    let body = Value::Object(body);
    let code = error_object(&body, what)["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !SERVER_CODES.contains(&code.as_str()),
        "{what}: a server failure for client input: {text}"
    );
    (kind, Some(code))
}

/// The in-memory state equals what a fresh load of the store gives: nothing acknowledged is
/// only in memory, nothing in memory is missing from the store.
pub fn check_durable(svc: &Svc, what: &str) {
    let reloaded = core_api::load(svc.store().clone());
    let (live, fresh) = (svc.registry(), reloaded.registry());
    assert_eq!(live.meta(), fresh.meta(), "{what}: counters lost on reload");
    assert!(
        live.entries().eq(fresh.entries()),
        "{what}: entries differ after reload"
    );
    assert_eq!(
        live.pending_requests(),
        fresh.pending_requests(),
        "{what}: pending requests differ after reload"
    );
    for id in 1..live.meta().next_request_id {
        assert_eq!(
            live.request(id),
            fresh.request(id),
            "{what}: request {id} differs after reload"
        );
    }
    assert_eq!(
        svc.config().stored,
        reloaded.config().stored,
        "{what}: configuration differs after reload"
    );
}

/// One HTTP request through the service with every property checked; returns the final
/// answer (a held poll is resumed at its deadline).
pub fn check_http(svc: &mut Svc, method: &str, target: &str, body: &[u8]) -> HttpResponse {
    let what = format!("{method} {target} {:?}", String::from_utf8_lossy(body));
    let before = stored(svc);
    let response = match core_api::handle(svc, method, target, body, NOW) {
        Answer::Now(r) => r,
        Answer::Held { waiter, deadline } => {
            assert!(
                deadline > NOW && deadline <= NOW + MAX_WAIT_MS,
                "{what}: held until {deadline}, {} ms from now",
                deadline as i128 - NOW as i128
            );
            assert_eq!(
                stored(svc),
                before,
                "{what}: holding a poll wrote something"
            );
            core_api::resume(svc, waiter, deadline)
        }
    };
    check_response(&response, &what);
    if response.status >= 400 {
        assert_eq!(
            stored(svc),
            before,
            "{what}: refused with {} but the store changed",
            response.status
        );
    }
    check_durable(svc, &what);
    response
}

#[cfg(test)]
mod tests {
    use std::panic::catch_unwind;

    use registry_core::{Commit, Entry, Store};

    use super::*;

    fn fails(f: impl FnOnce() + std::panic::UnwindSafe) -> bool {
        catch_unwind(f).is_err()
    }

    #[test]
    fn answers_are_checked() {
        let ok = |status, body: &str| HttpResponse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        check_response(&ok(200, "{}"), "200");
        check_response(&ok(204, ""), "204");
        check_response(&ok(400, r#"{"error":{"code":"x","message":"y"}}"#), "400");
        assert!(fails(|| check_response(&ok(200, "{"), "not JSON")));
        assert!(fails(|| check_response(
            &ok(400, r#"{"code":"x"}"#),
            "no error"
        )));
        assert!(fails(|| check_response(
            &ok(400, r#"{"error":{"code":"x"}}"#),
            "no message"
        )));
        let server = r#"{"error":{"code":"internal","message":"y"}}"#;
        assert!(fails(|| check_response(&ok(500, server), "5xx")));
        let stream = r#"{"type":"error","ref":1,"error":{"code":"internal","message":"y"}}"#;
        assert!(fails(|| {
            check_stream_message(stream, "stream 5xx");
        }));
    }

    #[test]
    fn a_refused_write_is_seen_to_change_nothing_and_a_write_to_change_something() {
        let mut svc = fixture();
        let r = check_http(&mut svc, "PUT", "/provider", br#"{"registers":{"x":{}}}"#);
        assert_eq!(r.status, 400);
        let before = stored(&svc);
        let r = check_http(
            &mut svc,
            "PUT",
            "/provider",
            br#"{"registers":{"x":{"value":1}}}"#,
        );
        assert_eq!(r.status, 204);
        assert_ne!(stored(&svc), before);
    }

    #[test]
    fn state_only_in_the_store_is_caught() {
        let mut svc = fixture();
        check_durable(&svc, "fixture");
        let mut commit = Commit {
            meta: svc.registry().meta(),
            ..Commit::default()
        };
        commit.put_entries.push(Entry {
            id: "ghost".into(),
            kind: "k".into(),
            meta: Default::default(),
            data: serde_json::json!(1),
            ttl_ms: None,
            expires_at: None,
            version: 1,
        });
        svc.store_mut().commit(&commit).unwrap();
        let svc = std::panic::AssertUnwindSafe(svc);
        assert!(fails(|| check_durable(&svc, "ghost")));
    }
}
