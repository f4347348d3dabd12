//! Issue 16: connections held open (long polls and stream sessions together) are bounded per
//! registry by `Limits::max_held_connections`; past it, 429 `capacity_exceeded` with
//! `Retry-After`, and nothing changes.

use registry_core::{HttpResponse, Limits};
use registry_tests::{Harness, Ticket};

const BOUND: usize = 3;

fn bounded() -> Harness {
    Harness::with_limits(Limits {
        max_held_connections: BOUND,
        ..Limits::default()
    })
}

fn held(t: &Ticket) -> bool {
    matches!(t, Ticket::Held(_))
}

fn assert_capacity_429(r: &HttpResponse) {
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body()["error"]["code"], "capacity_exceeded");
    assert_eq!(r.header("retry-after"), Some("1"));
}

fn refused(t: Ticket) -> HttpResponse {
    match t {
        Ticket::Done(r) => r,
        Ticket::Held(_) => panic!("held past the bound"),
    }
}

#[test]
fn long_polls_are_held_up_to_the_bound_then_429() {
    let mut h = bounded();
    for _ in 0..BOUND {
        assert!(held(&h.start("GET", "/consumer?name=a&wait=30s", "")));
    }
    assert_eq!(h.service().held_connections(), BOUND);
    let r = refused(h.start("GET", "/consumer?name=a&wait=30s", ""));
    assert_capacity_429(&r);
    // Provider and outcome polls count against the same bound.
    assert_capacity_429(&refused(h.start("GET", "/provider?name=a&wait=30s", "")));
    assert_eq!(
        h.service().waiters().len(),
        BOUND,
        "the refusal held nothing"
    );
    // A poll that needs no holding is still answered.
    assert_eq!(h.get("/consumer?name=a").status, 200);
}

#[test]
fn a_slot_is_free_again_once_a_poll_returns() {
    let mut h = bounded();
    let polls: Vec<_> = (0..BOUND)
        .map(|_| h.start("GET", "/consumer?name=a&wait=30s", ""))
        .collect();
    assert_capacity_429(&refused(h.start("GET", "/consumer?name=b&wait=30s", "")));
    h.provide("a", 1.into());
    for p in &polls {
        assert_eq!(h.result(p).expect("woken").status, 200);
    }
    assert_eq!(h.service().held_connections(), 0);
    assert!(held(&h.start("GET", "/consumer?name=b&wait=30s", "")));
}

#[test]
fn stream_sessions_are_opened_up_to_the_bound_then_429() {
    let mut h = bounded();
    for conn in 1..=BOUND as u64 {
        h.connect(conn);
    }
    let e = h
        .service_mut()
        .open_session(99, &Default::default())
        .value
        .unwrap_err();
    assert_capacity_429(&e.to_response());
    // An SSE watch opens a session too.
    let e = h.open_sse(100, "name=a", None).unwrap_err();
    assert_capacity_429(&e.to_response());
    assert_eq!(h.service().held_connections(), BOUND);
    // A closed connection frees its slot.
    h.disconnect(1);
    h.connect(99);
}

#[test]
fn polls_and_streams_share_one_bound() {
    let mut h = bounded();
    h.connect(1);
    h.open_sse(2, "name=a", None).unwrap();
    // Below the bound: a poll is held.
    assert!(held(&h.start("GET", "/consumer?name=a&wait=30s", "")));
    // At it: neither a poll nor a stream.
    assert_capacity_429(&refused(h.start("GET", "/consumer?name=a&wait=30s", "")));
    assert_capacity_429(
        &h.service_mut()
            .open_session(3, &Default::default())
            .value
            .unwrap_err()
            .to_response(),
    );
}
