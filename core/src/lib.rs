//! # registry-core
//!
//! The sans-IO core of Edge Registry: a registry of named live values. It has no clock, no
//! storage and no JS: time comes in as an argument (`now`, in Unix milliseconds), storage
//! through the [`Store`] trait, and the host (the Cloudflare Worker, or the native test harness)
//! holds connections and timers.
//!
//! ```
//! use registry_core::{HttpRequest, Limits, MemStore, Reply, Service};
//!
//! let mut svc = Service::load(MemStore::default(), Limits::default()).unwrap();
//! let put = HttpRequest::new("PUT", "/provider", r#"{"registers":{"temp":{"value":21.5}}}"#);
//! assert!(matches!(svc.handle(&put, 1_000).value, Reply::Respond(r) if r.status == 204));
//! let get = HttpRequest::new("GET", "/consumer?name=temp", "");
//! let Reply::Respond(r) = svc.handle(&get, 2_000).value else { panic!() };
//! assert_eq!(r.body, b"{\"registers\":{\"temp\":{\"value\":21.5}}}\n");
//! // The default TTL is 10 s: at 11 s the register is gone.
//! let Reply::Respond(r) = svc.handle(&get, 11_000).value else { panic!() };
//! assert_eq!(r.body, b"{\"registers\":{}}\n");
//! ```
//!
//! Modules: [`entry`] (data model), [`registry`] (state, TTL, change requests), [`waiters`]
//! (held long polls), [`service`] (what a host drives), [`api`] (HTTP-shaped API), [`store`]
//! (persistence trait + in-memory store), [`duration`] (Go duration syntax), [`config`].

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
mod connections;
pub mod deps;
pub mod duration;
pub mod effects;
pub mod entry;
pub mod entry_doc;
pub mod history;
pub mod listen;
pub mod logline;
pub mod mcp;
pub mod metrics;
pub mod query;
pub mod registry;
pub mod registry_config;
pub mod requests;
pub mod service;
mod service_stream;
pub mod store;
pub mod stream;
pub mod validators;
pub mod waiters;
pub mod write;

pub use api::{ApiError, HttpRequest, HttpResponse};
pub use config::Limits;
pub use duration::Millis;
pub use effects::{Effects, Step};
pub use entry::{Entry, PendingRequest, RequestRecord, RequestStatus};
pub use registry::Registry;
pub use service::{Reply, Service, VERSION_HEADER};
pub use store::{Commit, MemStore, RegistryMeta, Snapshot, Store, StoreError};
pub use waiters::{WaitKind, WaiterId};
