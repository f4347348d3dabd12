//! Structured logs: the object prints the core's log lines ([`registry_core::logline`]) with
//! `console.log`, one JSON object per line, readable in `wrangler tail` and `wrangler dev`.

use registry_core::logline::{RequestLine, VersionWritten};
use registry_core::VERSION_HEADER;
use worker::Response;

/// Prints one line per version written.
pub fn versions(registry: &str, written: &[VersionWritten]) {
    for v in written {
        worker::console_log!("{}", v.line(registry));
    }
}

/// What the object learned about a request while serving it.
#[derive(Debug, Default)]
pub struct Served {
    /// The token's name (`None` in open mode or before the principal was read).
    pub actor: Option<String>,
    /// Operations written while serving it.
    pub ops: usize,
    /// The registry version its answer carries, when known without reading the response's
    /// headers back (the hot path).
    pub version: Option<u64>,
}

/// Prints the line of one request: `path` is the path inside the registry (no query string).
pub fn request(
    registry: &str,
    method: &str,
    path: &str,
    served: &Served,
    response: &Response,
    duration_ms: u64,
) {
    let version = served
        .version
        .or_else(|| {
            response
                .headers()
                .get(VERSION_HEADER)
                .ok()
                .flatten()
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0);
    let line = RequestLine {
        registry,
        method,
        path,
        status: response.status_code(),
        actor: served.actor.as_deref(),
        version,
        ops: served.ops,
        duration_ms,
    };
    worker::console_log!("{}", line.line());
}
