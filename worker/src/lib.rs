//! Edge Registry on Cloudflare Workers.
//!
//! The entry point only routes: `/r/{registry}/…` (bare paths = registry `default`) goes to the
//! Durable Object named after the registry, which is a thin shell around `registry-core`
//! ([`durable::RegistryObject`]). Static files of `www/` are served by the `[assets]` binding
//! before this code runs, except on the API's paths, which `run_worker_first` sends here. CORS
//! is answered here for every response. Every request is authorized here
//! ([`auth_env::admit`]) and reaches its object carrying the principal.

pub mod auth_env;
mod cors;
mod durable;
mod http;
mod logs;
mod sql_chunks;
mod sql_sessions;
mod sql_store;
mod streams;

use registry_core::api::split_registry;
use registry_core::Limits;
use worker::{event, Context, Env, Method, Request, Response, Result};

pub use durable::RegistryObject;

/// Name of the Durable Object namespace binding in `wrangler.toml`.
const REGISTRY_BINDING: &str = "REGISTRY";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let cors = cors::Cors::from_env(&env, req.headers());
    if req.method() == Method::Options && req.headers().has("access-control-request-method")? {
        return cors.preflight();
    }
    // Parsed once for the whole request.
    let url = req.url()?;
    let response = match split_registry(url.path()) {
        Err(e) => http::to_response(e.to_response()),
        // The body is read within its bound first (which the object checks again): answering
        // while a client is still uploading would break its connection instead of answering
        // 413, 401 or 403.
        Ok((registry, inner)) => {
            match http::with_bounded_body(req, Limits::default().max_body_bytes).await? {
                Err(e) => http::to_response(e.to_response()),
                Ok(req) => match auth_env::admit(&env, &req, url.query(), &registry, &inner)? {
                    auth_env::Admission::Refuse(response) => Ok(response),
                    auth_env::Admission::Forward(req) => {
                        let stub = env
                            .durable_object(REGISTRY_BINDING)?
                            .get_by_name(&registry)?;
                        stub.fetch_with_request(req).await
                    }
                },
            }
        }
    }?;
    if response.status_code() == 101 {
        return Ok(response);
    }
    cors.apply(response)
}
