//! CORS: allowed origins come from the `CORS_ORIGINS` var (comma-separated, `*` = any; the
//! default). Preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered with 204;
//! a bare `OPTIONS` still gets reg's 405.

use std::cell::OnceCell;

use worker::{Env, Headers, Response, Result};

thread_local! {
    /// `CORS_ORIGINS` of this isolate, read on its first request (a new value is a new
    /// deployment, hence new isolates).
    static ORIGINS: OnceCell<String> = const { OnceCell::new() };
}

/// The CORS decision for one request.
pub struct Cors {
    allow_origin: Option<String>,
}

impl Cors {
    /// Decides from the configured origins and the request's `Origin`.
    pub fn from_env(env: &Env, headers: &Headers) -> Self {
        let origin = headers.get("origin").ok().flatten();
        let allow_origin = origin.and_then(|o| {
            ORIGINS.with(|cell| {
                cell.get_or_init(|| {
                    env.var("CORS_ORIGINS")
                        .map(|v| v.to_string())
                        .unwrap_or_else(|_| "*".to_string())
                })
                .split(',')
                .map(str::trim)
                .find(|c| *c == "*" || *c == o)
                .map(|c| if c == "*" { "*".to_string() } else { o.clone() })
            })
        });
        Cors { allow_origin }
    }

    /// Answers a preflight.
    pub fn preflight(&self) -> Result<Response> {
        let mut response = Response::empty()?.with_status(204);
        let h = response.headers_mut();
        h.set(
            "access-control-allow-methods",
            "GET, PUT, POST, DELETE, OPTIONS",
        )?;
        h.set(
            "access-control-allow-headers",
            "content-type, authorization, mcp-protocol-version, mcp-session-id, last-event-id",
        )?;
        h.set("access-control-max-age", "86400")?;
        self.apply(response)
    }

    /// Adds the CORS headers to a response.
    pub fn apply(&self, response: Response) -> Result<Response> {
        let Some(origin) = &self.allow_origin else {
            return Ok(response);
        };
        // Responses from a Durable Object stub have immutable headers: copy them.
        let status = response.status_code();
        let headers = Headers::new();
        for (k, v) in response.headers().entries() {
            headers.set(&k, &v)?;
        }
        headers.set("access-control-allow-origin", origin)?;
        headers.set(
            "access-control-expose-headers",
            "x-registry-version, x-request-ids",
        )?;
        if origin != "*" {
            headers.append("vary", "origin")?;
        }
        Ok(response.with_headers(headers).with_status(status))
    }
}
