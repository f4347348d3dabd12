//! The checks of the HTTP fuzz targets: register API bodies (`provider_put`, `consumer_put`),
//! `/v1` bodies (`v1_body`) and the query strings of every route (`query_string`). Each input
//! is one request to a fresh [`fixture`] registry, checked by [`check_http`]; where the core
//! has a pure parser for the input, its verdict must be the route's.

use registry_core::api::query::parse_poll_params;
use registry_core::api::register_body::{decode_consumer_put, decode_provider_put};
use registry_core::{ApiError, HttpResponse};

use super::props::{check_http, fixture, NOW};

/// The register default TTL (`Limits::default_ttl_ms`).
const DEFAULT_TTL_MS: u64 = 10_000;

/// An error answer's code.
fn code(r: &HttpResponse) -> String {
    r.json_body()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A parser's error is exactly the route's answer.
fn same_error(r: &HttpResponse, e: &ApiError, what: &str) {
    assert_eq!(
        (r.status, code(r)),
        (e.status, e.code.to_string()),
        "{what}: the parser says {e}, the route answered differently"
    );
}

/// `PUT /provider` with the input as body: decoded as `decode_provider_put` says; once
/// acknowledged, every register reads back with the value, metadata and TTL sent.
pub fn check_provider_put(data: &[u8]) {
    let mut svc = fixture();
    let decoded = decode_provider_put(data);
    let r = check_http(&mut svc, "PUT", "/provider", data);
    match decoded {
        Err(e) => same_error(&r, &e, "PUT /provider"),
        Ok(items) if r.status == 204 => {
            for item in items {
                let e = svc
                    .registry()
                    .get(&item.name)
                    .unwrap_or_else(|| panic!("register {:?} acknowledged, missing", item.name));
                let ttl = item.ttl_ms.unwrap_or(DEFAULT_TTL_MS);
                assert_eq!(e.data, item.value, "{:?}: value", item.name);
                assert_eq!(e.meta, item.metadata, "{:?}: metadata", item.name);
                assert_eq!(e.ttl_ms, Some(ttl), "{:?}: ttl", item.name);
                assert_eq!(e.expires_at, Some(NOW + ttl), "{:?}: expiry", item.name);
            }
        }
        Ok(_) => {}
    }
}

/// `PUT /consumer` with the input as body: decoded as `decode_consumer_put` says; once
/// acknowledged, every requested value is the pending request of its register.
pub fn check_consumer_put(data: &[u8]) {
    let mut svc = fixture();
    let decoded = decode_consumer_put(data);
    let r = check_http(&mut svc, "PUT", "/consumer", data);
    match decoded {
        Err(e) => same_error(&r, &e, "PUT /consumer"),
        Ok(requests) if r.status == 202 => {
            for (name, value) in requests {
                let pending = svc.registry().pending_request(&name);
                assert_eq!(
                    pending.map(|p| &p.value),
                    Some(&value),
                    "{name:?}: acknowledged request not pending"
                );
            }
        }
        Ok(_) => {}
    }
}

/// The `/v1` routes with a body. The input's first line picks the route and, for routes with
/// an id, gives it (`e app:db` = `PUT /v1/entries/app:db`); the rest is the body.
pub fn check_v1_body(data: &[u8]) {
    let (head, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let (route, id) = head.split_once(' ').unwrap_or((head, ""));
    if id.contains(['?', '#']) {
        return; // a query string is the `query_string` target's
    }
    let (method, target) = match route {
        "e" => ("PUT", format!("/v1/entries/{id}")),
        "t" => ("POST", "/v1/tx".to_string()),
        "c" => ("PUT", "/v1/config".to_string()),
        "r" => ("POST", "/v1/rollback".to_string()),
        "q" => ("POST", "/v1/requests".to_string()),
        "v" => ("POST", format!("/v1/requests/{id}/verdict")),
        _ => return,
    };
    let mut svc = fixture();
    let head = svc.registry().head();
    let entries: Vec<_> = svc.registry().entries().map(content).collect();
    let r = check_http(&mut svc, method, &target, body);
    if svc.registry().head() != head {
        // Whatever was acknowledged, history can go back to the beginning (on a copy) and to
        // just before it.
        let mut copy = super::core_api::load(svc.store().clone());
        let r = check_http(&mut copy, "POST", "/v1/rollback", br#"{"to":0}"#);
        assert_eq!(r.status, 200, "{route} {id}: cannot roll back to 0");
        assert!(
            copy.registry().is_empty(),
            "{route} {id}: entries left at 0"
        );
        let back = format!(r#"{{"to":{head}}}"#);
        let r = check_http(&mut svc, "POST", "/v1/rollback", back.as_bytes());
        assert_eq!(r.status, 200, "{route} {id}: cannot roll back to {head}");
        let now: Vec<_> = svc.registry().entries().map(content).collect();
        assert_eq!(
            now, entries,
            "{route} {id}: rolled back to {head}, not the same state"
        );
    }
    if route == "c" && r.status == 200 {
        let got = check_http(&mut svc, "GET", "/v1/config", b"");
        assert_eq!(
            got.json_body()["config"],
            serde_json::to_value(&svc.config().stored).expect("config serialises"),
            "the configuration acknowledged is the one served"
        );
    }
}

/// What history restores of an entry: everything but its version and expiry instant.
type Content = (
    String,
    String,
    registry_core::entry::Meta,
    serde_json::Value,
    Option<u64>,
);

fn content(e: &registry_core::Entry) -> Content {
    (
        e.id.clone(),
        e.kind.clone(),
        e.meta.clone(),
        e.data.clone(),
        e.ttl_ms,
    )
}

/// The query string of a route. The input's first byte picks the route, the rest is the query
/// string (for `n`, the version in the path): `c` `/consumer`, `p` `/provider`, `e`
/// `/v1/entries`, `v` `/v1/versions`, `d` `/v1/diff`, `s` `/v1/state`, `r` `/v1/requests/2`
/// (delivered) and `R` `/v1/requests/1` (pending), `x` `DELETE /v1/entries/app:web`, `n`
/// `/v1/versions/{v}`, `w` `/v1/watch`.
pub fn check_query_string(data: &[u8]) {
    let Some((&route, rest)) = data.split_first() else {
        return;
    };
    let Ok(query) = std::str::from_utf8(rest) else {
        return;
    };
    if query.contains('#') || (route == b'n' && query.contains('?')) {
        return;
    }
    let (method, path) = match route {
        b'c' => ("GET", "/consumer"),
        b'p' => ("GET", "/provider"),
        b'e' => ("GET", "/v1/entries"),
        b'v' => ("GET", "/v1/versions"),
        b'd' => ("GET", "/v1/diff"),
        b's' => ("GET", "/v1/state"),
        b'r' => ("GET", "/v1/requests/2"),
        b'R' => ("GET", "/v1/requests/1"),
        b'x' => ("DELETE", "/v1/entries/app:web"),
        b'w' => ("GET", "/v1/watch"),
        b'n' => {
            let mut svc = fixture();
            check_http(&mut svc, "GET", &format!("/v1/versions/{query}"), b"");
            return;
        }
        _ => return,
    };
    let mut svc = fixture();
    let r = check_http(&mut svc, method, &format!("{path}?{query}"), b"");
    if matches!(route, b'c' | b'p') {
        if let Err(e) = parse_poll_params(query) {
            same_error(&r, &e, path);
        }
    }
}
