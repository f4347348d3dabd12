//! The only place where the fuzz checks call into `registry-core`'s `Service`: every target and
//! every replayed input goes through these few functions, so a change of the service's calling
//! convention (e.g. replies returned with the host effects they cause) is a change here alone.

use registry_core::stream::{ConnId, Outgoing};
use registry_core::{
    HttpRequest, HttpResponse, Limits, MemStore, Millis, Reply, Service, WaiterId,
};

/// The service the checks drive: one registry over an in-memory store.
pub type Svc = Service<MemStore>;

/// What a request got: an answer now, or a held long poll.
#[derive(Debug)]
pub enum Answer {
    /// Answered at once.
    Now(HttpResponse),
    /// Held until woken or until `deadline`.
    Held {
        /// The held poll.
        waiter: WaiterId,
        /// When it must be resumed at the latest.
        deadline: Millis,
    },
}

/// Loads a service from a store with default limits.
pub fn load(store: MemStore) -> Svc {
    Service::load(store, Limits::default()).expect("a memory store always loads")
}

/// Runs what is due at `now` (expiry), as the host does on its alarm.
pub fn settle(svc: &mut Svc, now: Millis) {
    svc.on_alarm(now)
        .value
        .expect("expiry over a memory store succeeds");
}

/// One HTTP request at `now`.
pub fn handle(svc: &mut Svc, method: &str, target: &str, body: &[u8], now: Millis) -> Answer {
    match svc
        .handle(&HttpRequest::new(method, target, body), now)
        .value
    {
        Reply::Respond(r) => Answer::Now(r),
        Reply::Wait { waiter, deadline } => Answer::Held { waiter, deadline },
    }
}

/// Finishes a held long poll at `now`.
pub fn resume(svc: &mut Svc, waiter: WaiterId, now: Millis) -> HttpResponse {
    svc.resume(waiter, now).value
}

/// Opens a stream session; whether the service accepted it.
pub fn open_session(svc: &mut Svc, conn: ConnId) -> bool {
    svc.open_session(conn, &registry_core::auth::Principal::open())
        .value
        .is_ok()
}

/// One client message of a stream session at `now`, and every message the service queued
/// because of it (for any connection).
pub fn on_message(svc: &mut Svc, conn: ConnId, text: &str, now: Millis) -> Vec<Outgoing> {
    svc.on_message(conn, text, now).send
}
