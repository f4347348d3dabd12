//! API errors: an HTTP status, a stable machine code and a human message, rendered as
//! `{"error":{"code":"…","message":"…"}}`.
//!
//! A server error (5xx) tells the client only its code and a short generic message: what went
//! wrong inside (a storage engine's error text, a JS stack trace, a file path, a type name) is
//! kept in [`ApiError::detail`] for the host's log and never rendered.

use serde_json::json;

use super::http::HttpResponse;

/// Seconds a client is told to wait (`Retry-After`) before retrying after a 429.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// An error answered to the client. Nothing was changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (4xx for bad input, 5xx for the server's own failures).
    pub status: u16,
    /// Stable snake_case code, e.g. `invalid_wait`.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Every reason, when several things are wrong at once (transactions).
    pub reasons: Vec<Reason>,
    /// What went wrong inside, for the log only (server errors); never sent to the client.
    pub detail: Option<Box<str>>,
}

/// What a client is told of a server error with `code`: a short message, nothing internal.
fn server_error_message(code: &str) -> &'static str {
    match code {
        "storage_error" => "storage unavailable, nothing was changed; retry",
        _ => "internal error; retry",
    }
}

/// One reason a transaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    /// Index of the operation in the request, when it concerns one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<usize>,
    /// The entry id, when it concerns one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The listener that rejected it, for rejections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl Reason {
    /// Every reason's text, `; `-separated (the message of a refusal).
    pub fn joined(reasons: &[Reason]) -> String {
        reasons
            .iter()
            .map(|r| r.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl ApiError {
    /// Builds an error. For a server error (status ≥ 500) `message` is internal: it becomes the
    /// [`detail`](Self::detail) and the client gets a generic message for `code` instead.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        let (message, detail) = if status >= 500 {
            (server_error_message(code).to_string(), Some(message.into()))
        } else {
            (message, None)
        };
        ApiError {
            status,
            code,
            message,
            reasons: Vec::new(),
            detail,
        }
    }

    /// 400 `invalid_wait` (reg: `invalid wait parameter`).
    pub fn invalid_wait(detail: &str) -> Self {
        Self::new(
            400,
            "invalid_wait",
            format!("invalid wait parameter: {detail}"),
        )
    }

    /// 400 `invalid_request` (reg: `invalid request`).
    pub fn invalid_request(detail: impl std::fmt::Display) -> Self {
        Self::new(400, "invalid_request", format!("invalid request: {detail}"))
    }

    /// 400 `registers_required` (reg: `registers is required`).
    pub fn registers_required() -> Self {
        Self::new(400, "registers_required", "registers is required")
    }

    /// 400 `value_required` (reg: `register value is required`).
    pub fn value_required(name: &str) -> Self {
        Self::new(
            400,
            "value_required",
            format!("register value is required (register {name:?})"),
        )
    }

    /// 404 `not_found`.
    pub fn not_found(path: &str) -> Self {
        Self::new(404, "not_found", format!("no such endpoint: {path}"))
    }

    /// 405 `method_not_allowed`.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            format!("method not allowed: {method}"),
        )
    }

    /// 413 `too_large`.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(413, "too_large", detail)
    }

    /// 429 `capacity_exceeded`: a registry-wide bound is reached; retry later.
    pub fn capacity(detail: impl Into<String>) -> Self {
        Self::new(429, "capacity_exceeded", detail)
    }

    /// 500 `storage_error`: the client is told to retry; `detail` (the store's error) is kept
    /// for the log.
    pub fn storage(detail: impl std::fmt::Display) -> Self {
        Self::new(500, "storage_error", detail.to_string())
    }

    /// The `error` object: `{"code","message","reasons"?}` (plus `status` on streams).
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({"code": self.code, "message": self.message});
        if !self.reasons.is_empty() {
            body["reasons"] = json!(self.reasons);
        }
        body
    }

    /// Renders the error as a JSON response; a 429 (a registry-wide bound, freed as held
    /// requests end) carries `Retry-After`, a 401 `WWW-Authenticate: Bearer` (only Bearer: a
    /// `Basic` challenge would make browsers pop up a login dialog over the page).
    pub fn to_response(&self) -> HttpResponse {
        let response = HttpResponse::json(self.status, &json!({"error": self.body()}));
        match self.status {
            429 => response.with_header("retry-after", RETRY_AFTER_SECONDS.to_string()),
            401 => response.with_header("www-authenticate", "Bearer realm=\"registry\""),
            _ => response,
        }
    }

    /// A refusal with every reason: `"{code}, nothing was written: {reason}; {reason}…"` (409
    /// `conflict`, 422 `rejected`).
    pub fn refused(status: u16, code: &'static str, reasons: Vec<Reason>) -> Self {
        let message = Reason::joined(&reasons);
        Self::new(
            status,
            code,
            format!("{code}, nothing was written: {message}"),
        )
        .with_reasons(reasons)
    }

    /// Attaches every reason.
    pub fn with_reasons(mut self, reasons: Vec<Reason>) -> Self {
        self.reasons = reasons;
        self
    }
}

/// `status code: message`, then the internal detail if any: for logs, not for clients.
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)?;
        match &self.detail {
            Some(detail) => write!(f, " ({detail})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<crate::query::parse::QueryError> for ApiError {
    fn from(e: crate::query::parse::QueryError) -> Self {
        ApiError::new(400, "invalid_criterion", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_tell_the_client_nothing_internal() {
        let inner = "Error: SQLITE_FULL\n    at exec (file:///srv/worker/index.js:12:3)";
        for e in [
            ApiError::storage(inner),
            ApiError::new(500, "internal", inner),
            ApiError::new(503, "history_corrupt", inner),
        ] {
            let body = e.to_response().body;
            let text = String::from_utf8(body).unwrap();
            assert!(
                !text.contains("SQLITE") && !text.contains("file://"),
                "{text}"
            );
            assert!(text.contains(e.code), "{text}");
            assert_eq!(e.detail.as_deref(), Some(inner));
            assert!(
                e.to_string().contains(inner),
                "the log line keeps the detail"
            );
        }
        assert_eq!(
            ApiError::storage(inner).message,
            "storage unavailable, nothing was changed; retry"
        );
    }

    #[test]
    fn client_errors_keep_their_message() {
        let e = ApiError::new(400, "invalid_request", "ttl: bad");
        assert_eq!(
            (e.message.as_str(), e.detail.as_deref()),
            ("ttl: bad", None)
        );
        assert!(String::from_utf8(e.to_response().body)
            .unwrap()
            .contains("ttl: bad"));
    }
}
