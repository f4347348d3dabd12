//! Access control (SPEC §5, issue 11): bearer tokens with roles, scoped to registries and
//! entry-id prefixes.
//!
//! - [`config`]: `REGISTRY_TOKENS` parsed strictly into an [`AuthConfig`] (unset = open mode).
//! - [`credentials`]: where a request carries its token (Bearer, Basic's password, a WebSocket
//!   subprotocol, `access_token` for `EventSource`) and the constant-time comparison.
//! - [`action`]: every endpoint family and stream message as one [`Action`], mapped once.
//! - [`principal`]: the [`Principal`] a token grants and every decision about it.
//!
//! A host calls [`authorize`] once per request (the Worker entry, before routing to the
//! registry's object) and hands the principal on; the core then filters reads with
//! [`Principal::may_read`] and refuses out-of-scope writes with [`check`]. Refusals are the
//! registry's usual JSON errors: 401 `unauthorized` (with `WWW-Authenticate: Bearer`) when the
//! token is missing or unknown, 403 `forbidden` when it does not allow the request. Neither
//! says which part was wrong.

pub mod action;
pub mod config;
pub mod credentials;
pub mod principal;

pub use action::Action;
pub use config::{AuthConfig, ConfigError, TokenEntry, TOKENS_VAR};
pub use credentials::{CredentialSources, ACCESS_TOKEN_PARAM, WS_PROTOCOL, WS_TOKEN_PREFIX};
pub use principal::{glob_match, Principal, Role};

use crate::api::ApiError;

/// The header in which the Worker entry hands the principal to the registry's object (which
/// trusts it because only the entry can reach the object, and the entry always sets it).
pub const PRINCIPAL_HEADER: &str = "x-registry-principal";

/// 401 `unauthorized`: no token, a malformed one or an unknown one (the same answer for all).
pub fn unauthorized() -> ApiError {
    ApiError::new(
        401,
        "unauthorized",
        "a valid token is required: send Authorization: Bearer <token>",
    )
}

/// 403 `forbidden`: a known token that does not allow this request (whatever the reason:
/// role, registry or id).
pub fn forbidden() -> ApiError {
    ApiError::new(403, "forbidden", "this token does not allow this request")
}

/// 500 `auth_misconfigured`: `REGISTRY_TOKENS` is malformed, so the API is not served. The
/// details go to the host's log, not to clients.
pub fn misconfigured() -> ApiError {
    ApiError::new(
        500,
        "auth_misconfigured",
        "the access configuration (REGISTRY_TOKENS) is invalid, so the API is disabled until it \
         is fixed; the details are in the server's log",
    )
}

/// One request as authorization sees it.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The registry addressed (`default` for bare paths).
    pub registry: &'a str,
    /// Upper-case method.
    pub method: &'a str,
    /// The path inside the registry, still percent-encoded.
    pub path: &'a str,
    /// Where its token may be.
    pub credentials: CredentialSources<'a>,
}

/// Decides a request before it reaches a registry: the principal to act as, or the error to
/// answer (401 no/unknown token, 403 registry or role not allowed). Open mode: always
/// [`Principal::open`]. Per-id decisions come later, in the registry ([`check`],
/// [`Principal::may_read`]).
pub fn authorize(config: &AuthConfig, req: &AuthRequest<'_>) -> Result<Principal, ApiError> {
    if config.is_open() {
        return Ok(Principal::open());
    }
    let action = Action::of_request(req.method, req.path);
    let token = req.credentials.token(action).ok_or_else(unauthorized)?;
    let principal = config.lookup(&token).ok_or_else(unauthorized)?;
    if principal.may_use_registry(req.registry) && principal.permits(action) {
        Ok(principal.clone())
    } else {
        Err(forbidden())
    }
}

/// Refuses (403) an action on an id outside the principal's scope: for writes, change
/// requests, verdicts and single-entry reads. (Lists, queries, streams and history filter
/// with [`Principal::may_read`] instead.)
pub fn check(principal: &Principal, action: Action, id: &str) -> Result<(), ApiError> {
    if principal.may(action, id) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

#[cfg(test)]
mod tests;
