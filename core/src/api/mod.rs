//! The HTTP-shaped API layer: a request in, a response (or "wait for these names until this
//! deadline") out. The worker and the native harness both drive it through
//! [`crate::Service::handle`].

pub mod error;
pub mod http;
pub mod query;
mod register;
pub mod register_body;
pub mod route;
pub mod v1_entries;
mod v1_history;
pub(crate) mod v1_requests;
mod v1_tx;

pub use error::{ApiError, Reason};
pub use http::{HttpRequest, HttpResponse};
pub use route::{split_registry, validate_registry_name, DEFAULT_REGISTRY};
