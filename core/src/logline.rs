//! Structured log lines, one JSON object per line, for the host to print (`console.log` in
//! the Worker, so they show in `wrangler tail` and `wrangler dev`): one per request or stream
//! message ([`RequestLine`]) and one per version written ([`VersionWritten`], returned in
//! [`crate::Effects::written`]). They carry names, numbers and statuses only: never a token,
//! a value, metadata, a query string or a body.

use serde::Serialize;

use crate::duration::Millis;

/// A version the call wrote, as the host logs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionWritten {
    /// The version number.
    pub version: u64,
    /// Who wrote it (the token's name, or the endpoint's actor in open mode; `ttl` for
    /// expiries, `rollback` for rollbacks).
    pub actor: String,
    /// How many operations its changeset holds.
    pub ops: usize,
    /// When it was written (Unix ms).
    pub timestamp: Millis,
}

impl VersionWritten {
    /// The log line of this version in `registry`.
    ///
    /// ```
    /// use registry_core::logline::VersionWritten;
    /// let v = VersionWritten { version: 3, actor: "pi".into(), ops: 2, timestamp: 5 };
    /// assert_eq!(v.line("home"),
    ///     r#"{"event":"version","registry":"home","version":3,"actor":"pi","ops":2,"timestamp":5}"#);
    /// ```
    pub fn line(&self, registry: &str) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            event: &'static str,
            registry: &'a str,
            #[serde(flatten)]
            version: &'a VersionWritten,
        }
        let line = Line {
            event: "version",
            registry,
            version: self,
        };
        serde_json::to_string(&line).expect("a log line always serializes")
    }
}

/// One request (or stream message) as the host logs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestLine<'a> {
    /// The registry.
    pub registry: &'a str,
    /// `GET`, `PUT`, …; `WS` for a stream message.
    pub method: &'a str,
    /// The path inside the registry, without the query string (requests), or the message type
    /// (stream messages, see [`message_type`]).
    pub path: &'a str,
    /// The HTTP status (0 for a stream message: its answer is a message).
    pub status: u16,
    /// The token's name (`None` in open mode).
    pub actor: Option<&'a str>,
    /// The registry's head version after it.
    pub version: u64,
    /// Operations written by it (over every version it wrote).
    pub ops: usize,
    /// How long it took, in ms (held requests: until answered).
    pub duration_ms: u64,
}

impl RequestLine<'_> {
    /// The log line.
    ///
    /// ```
    /// use registry_core::logline::RequestLine;
    /// let l = RequestLine { registry: "default", method: "PUT", path: "/provider", status: 204,
    ///                       actor: None, version: 7, ops: 1, duration_ms: 2 };
    /// assert_eq!(l.line(), r#"{"event":"request","registry":"default","method":"PUT","path":"/provider","status":204,"actor":null,"version":7,"ops":1,"duration_ms":2}"#);
    /// ```
    pub fn line(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a, 'b> {
            event: &'static str,
            #[serde(flatten)]
            request: &'a RequestLine<'b>,
        }
        let line = Line {
            event: "request",
            request: self,
        };
        serde_json::to_string(&line).expect("a log line always serializes")
    }
}

/// The type of a stream message for the log: one of the protocol's message types, or
/// `invalid` (so a client cannot write arbitrary text into the log).
///
/// ```
/// use registry_core::logline::message_type;
/// assert_eq!(message_type(r#"{"type":"watch","watch":"w","names":["a"]}"#), "watch");
/// assert_eq!(message_type(r#"{"type":"secret-token"}"#), "invalid");
/// ```
pub fn message_type(text: &str) -> &'static str {
    const TYPES: [&str; 10] = [
        "watch",
        "unwatch",
        "provide",
        "unprovide",
        "request",
        "verdict",
        "validate",
        "unvalidate",
        "decide",
        "ping",
    ];
    let kind = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string));
    kind.and_then(|k| TYPES.into_iter().find(|t| *t == k))
        .unwrap_or("invalid")
}

/// The operations written by a call, over its versions.
pub fn ops_of(written: &[VersionWritten]) -> usize {
    written.iter().map(|v| v.ops).sum()
}
