//! Access control at the Worker entry: `REGISTRY_TOKENS` read once per isolate, every request
//! authorized before it is routed to its registry's Durable Object, and the principal handed
//! to the object in the [`PRINCIPAL_HEADER`] header.
//!
//! Why the object can trust that header: a Durable Object has no public address — only code
//! holding the `REGISTRY` namespace binding (this Worker's entry) can send it a request — and
//! the entry sets the header on **every** request it forwards (open mode too), replacing any
//! value a client sent. So the header the object reads is always the entry's. An object
//! request without it did not come through the entry and is refused (fail closed).

use std::cell::OnceCell;
use std::rc::Rc;

use registry_core::api::ApiError;
use registry_core::auth::{
    self, credentials, AuthConfig, AuthRequest, ConfigError, CredentialSources, Principal,
    PRINCIPAL_HEADER, TOKENS_VAR,
};
use wasm_bindgen::JsValue;
use worker::{Env, Request, Response, Result};

use crate::http::to_response;

thread_local! {
    /// The parsed configuration of this isolate. A new secret value means a new deployment,
    /// hence new isolates: reading it once is enough.
    static CONFIG: OnceCell<Rc<std::result::Result<AuthConfig, ConfigError>>> =
        const { OnceCell::new() };
}

/// The access configuration, read from the `REGISTRY_TOKENS` secret (or variable) on first use
/// in this isolate. A malformed value is logged once, with what is wrong, and kept as the error
/// (the API is then refused with a 500; it never falls back to open access).
pub fn config(env: &Env) -> Rc<std::result::Result<AuthConfig, ConfigError>> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| {
            let parsed = read_config(env);
            match &parsed {
                Err(e) => worker::console_error!("{e}; the API answers 500 until it is fixed"),
                Ok(c) if c.is_open() => {
                    worker::console_log!("{TOKENS_VAR} is not set: access is open to anyone")
                }
                Ok(c) => worker::console_log!("access control: {} tokens", c.entries().len()),
            }
            Rc::new(parsed)
        })
        .clone()
    })
}

/// Reads the binding: absent = open; a string (a secret, a `.dev.vars` entry or
/// `wrangler dev --var`) is parsed; anything else (a structured `[vars]` value in
/// `wrangler.toml`) is refused, since tokens do not belong in a committed file.
fn read_config(env: &Env) -> std::result::Result<AuthConfig, ConfigError> {
    let value =
        js_sys::Reflect::get(env, &JsValue::from_str(TOKENS_VAR)).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return AuthConfig::parse(None);
    }
    match value.as_string() {
        Some(text) => AuthConfig::parse(Some(&text)),
        None => Err(ConfigError(
            "it must be text holding a JSON array: set it with `wrangler secret put \
             REGISTRY_TOKENS` (locally in .dev.vars), not as a structured value in wrangler.toml"
                .into(),
        )),
    }
}

/// What the entry does with a request.
pub enum Admission {
    /// Forward this request (a copy of the client's, carrying the principal) to the object.
    Forward(Request),
    /// Answer this (401, 403, or 500 when the configuration is malformed) without forwarding.
    Refuse(Response),
}

/// Authorizes a request at the entry, for `registry` and its path inside the registry (both
/// from `split_registry`); `query` is the request's query string. CORS preflights are answered
/// before this is called.
pub fn admit(
    env: &Env,
    req: &Request,
    query: Option<&str>,
    registry: &str,
    inner_path: &str,
) -> Result<Admission> {
    let config = config(env);
    let decided = match config.as_ref() {
        Err(_) => Err(auth::misconfigured()),
        Ok(config) => {
            let headers = req.headers();
            let authorization = headers.get("authorization")?;
            let websocket_protocol = headers.get("sec-websocket-protocol")?;
            let method = req.method().to_string();
            auth::authorize(
                config,
                &AuthRequest {
                    registry,
                    method: &method,
                    path: inner_path,
                    credentials: CredentialSources {
                        authorization: authorization.as_deref(),
                        websocket_protocol: websocket_protocol.as_deref(),
                        query: query.unwrap_or(""),
                    },
                },
            )
        }
    };
    match decided {
        Err(e) => Ok(Admission::Refuse(to_response(e.to_response())?)),
        Ok(principal) => {
            // A mutable copy (same method, URL, headers, body and signal); `set` replaces any
            // principal header the client sent.
            let mut forwarded = req.clone_mut()?;
            forwarded
                .headers_mut()?
                .set(PRINCIPAL_HEADER, &principal.to_header())?;
            Ok(Admission::Forward(forwarded))
        }
    }
}

/// In the Durable Object: the principal the entry attached to this request. Missing or
/// unreadable means the request did not come through the entry: a 500, never open access.
pub fn principal_of(req: &Request) -> std::result::Result<Principal, ApiError> {
    let internal = |detail: String| {
        worker::console_error!("{detail}");
        ApiError::new(
            500,
            "internal",
            "internal error: request not authorized by the entry",
        )
    };
    let header = req
        .headers()
        .get(PRINCIPAL_HEADER)
        .ok()
        .flatten()
        .ok_or_else(|| internal(format!("{PRINCIPAL_HEADER} is missing")))?;
    Principal::from_header(&header).map_err(internal)
}

/// In the Durable Object, on the `101` answer of `/v1/ws`: selects the `registry` subprotocol
/// when the client offered it (a browser passing its token as `bearer.<token>` offers both, and
/// fails the connection unless one is selected). The token's entry is never echoed.
pub fn select_ws_protocol(req: &Request, mut response: Response) -> Result<Response> {
    let offered = req.headers().get("sec-websocket-protocol")?;
    if let Some(protocol) = credentials::ws_protocol_reply(offered.as_deref()) {
        response
            .headers_mut()
            .set("sec-websocket-protocol", protocol)?;
    }
    Ok(response)
}
