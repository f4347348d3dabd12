//! The Durable Object that holds one registry: a thin shell around `registry_core::Service`.
//!
//! - State is loaded from SQLite when the object starts and every change is written there (one
//!   transaction per commit) before it is applied in memory.
//! - One alarm is kept at the next TTL / change-request expiry, so registers expire with no
//!   traffic at all.
//! - A long poll is a future parked on a oneshot channel raced against a timer; the request
//!   that changes something wakes it directly (no polling loop).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use futures_channel::oneshot;
use futures_util::future::{select, Either};
use registry_core::api::split_registry;
use registry_core::{HttpResponse, Limits, Reply, Service, WaiterId};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use worker::{durable_object, Date, Delay, Env, Request, Response, Result, ScheduledTime, State};

use crate::http::{from_request, to_response};
use crate::sql_store::SqlStore;

/// One registry (one object per registry name).
#[durable_object]
pub struct RegistryObject {
    state: State,
    limits: Limits,
    service: RefCell<Option<Service<SqlStore>>>,
    held: RefCell<HashMap<WaiterId, oneshot::Sender<()>>>,
    /// The alarm time this instance last set (None = unknown or none).
    alarm_at: Cell<Option<u64>>,
}

fn now() -> u64 {
    Date::now().as_millis()
}

/// Limits, with history settings from wrangler vars: `RETENTION_VERSIONS` (keep at least this
/// many versions; unset = all) and `CHECKPOINT_INTERVAL` (default 256).
fn limits_from_env(env: &Env) -> Limits {
    let var = |name: &str| {
        env.var(name)
            .ok()
            .and_then(|v| v.to_string().trim().parse::<u64>().ok())
    };
    let mut limits = Limits::default();
    if let Some(n) = var("CHECKPOINT_INTERVAL").filter(|n| *n > 0) {
        limits.checkpoint_interval = n;
    }
    limits.max_versions = var("RETENTION_VERSIONS");
    limits
}

impl RegistryObject {
    /// Runs `f` on the service, loading it from storage first if needed (first use, or after a
    /// failed write poisoned it).
    fn with_service<T>(&self, f: impl FnOnce(&mut Service<SqlStore>) -> T) -> Result<T> {
        let mut slot = self.service.borrow_mut();
        if slot.as_ref().is_none_or(|s| s.is_poisoned()) {
            let store = SqlStore::open(self.state.storage()).map_err(|e| e.to_string())?;
            let svc = Service::load(store, self.limits.clone()).map_err(|e| e.to_string())?;
            // Waiters of a discarded service can never be resumed: release their requests.
            self.held.borrow_mut().clear();
            *slot = Some(svc);
        }
        Ok(f(slot.as_mut().expect("loaded above")))
    }

    /// After every call into the service: wake the long polls it woke (outside any borrow),
    /// then make sure the alarm fires at the next expiry.
    async fn settle(&self) -> Result<()> {
        let (woken, next) = self.with_service(|s| (s.take_woken(), s.next_alarm()))?;
        for id in woken {
            if let Some(tx) = self.held.borrow_mut().remove(&id) {
                let _ = tx.send(());
            }
        }
        if let Some(at) = next {
            if self.alarm_at.get().is_none_or(|cur| at < cur) {
                let when = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
                self.state
                    .storage()
                    .set_alarm(ScheduledTime::new(when))
                    .await?;
                self.alarm_at.set(Some(at));
            }
        }
        Ok(())
    }

    /// Parks a long poll until its waiter is woken, its deadline passes or its client goes
    /// away. `rx` was registered in `held` before any await, so no wake-up can be missed.
    async fn hold(
        &self,
        waiter: WaiterId,
        deadline: u64,
        rx: oneshot::Receiver<()>,
        signal: web_sys::AbortSignal,
    ) -> Result<HttpResponse> {
        let wait = deadline.saturating_sub(now());
        let timer = Delay::from(Duration::from_millis(wait));
        let (gone_tx, gone_rx) = oneshot::channel::<()>();
        let mut gone_tx = Some(gone_tx);
        let on_abort = Closure::<dyn FnMut()>::new(move || {
            if let Some(tx) = gone_tx.take() {
                let _ = tx.send(());
            }
        });
        signal.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        let client_gone = signal.aborted()
            || matches!(select(select(rx, timer), gone_rx).await, Either::Right(_));
        signal.set_onabort(None);
        drop(on_abort);
        self.held.borrow_mut().remove(&waiter);
        if client_gone {
            // Nobody will read the answer: forget the waiter so that it takes no change request.
            self.with_service(|s| s.cancel(waiter))?;
            return Ok(HttpResponse::empty(499));
        }
        let response = self.with_service(|s| s.resume(waiter, now()))?;
        self.settle().await?;
        Ok(response)
    }
}

impl worker::DurableObject for RegistryObject {
    fn new(state: State, env: Env) -> Self {
        RegistryObject {
            state,
            limits: limits_from_env(&env),
            service: RefCell::new(None),
            held: RefCell::new(HashMap::new()),
            alarm_at: Cell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.serve(req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                worker::console_error!("registry object failed: {e}");
                let err =
                    registry_core::ApiError::new(500, "internal", format!("internal error: {e}"));
                to_response(err.to_response())
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(None);
        let result = self.with_service(|s| s.on_alarm(now()))?;
        self.settle().await?;
        if let Err(e) = result {
            return Err(worker::Error::RustError(e.to_string()));
        }
        Response::ok("")
    }
}

impl RegistryObject {
    async fn serve(&self, mut req: Request) -> Result<Response> {
        let max_body = self.with_service(|s| s.limits().max_body_bytes)?;
        let mut http = match from_request(&mut req, max_body).await? {
            Ok(http) => http,
            Err(e) => return to_response(e.to_response()),
        };
        match split_registry(&http.path) {
            Ok((_, inner)) => http.path = inner,
            Err(e) => return to_response(e.to_response()),
        }
        let reply = self.with_service(|s| s.handle(&http, now()))?;
        let parked = match reply {
            Reply::Respond(r) => Err(r),
            Reply::Wait { waiter, deadline } => {
                let (tx, rx) = oneshot::channel();
                self.held.borrow_mut().insert(waiter, tx);
                Ok((waiter, deadline, rx))
            }
        };
        self.settle().await?;
        let response = match parked {
            Err(r) => r,
            Ok((waiter, deadline, rx)) => {
                let signal = req.inner().signal();
                self.hold(waiter, deadline, rx, signal).await?
            }
        };
        to_response(response)
    }
}
