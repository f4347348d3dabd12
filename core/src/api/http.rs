//! HTTP-shaped request and response values: what the host hands in and gets back.

use serde_json::Value;

use crate::auth::Principal;

/// A request as the API layer sees it (the registry prefix already removed from `path`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequest {
    /// Upper-case method (`GET`, `PUT`, …).
    pub method: String,
    /// The path inside the registry, e.g. `/consumer` (still percent-encoded).
    pub path: String,
    /// The raw query string without `?`.
    pub query: String,
    /// The request body.
    pub body: Vec<u8>,
    /// Who asks: set by the host from the request's credentials ([`crate::auth::authorize`]);
    /// [`Principal::open`] (the default) in open mode.
    pub principal: Principal,
}

impl HttpRequest {
    /// Builds a request from a method and a `path?query` target.
    ///
    /// ```
    /// use registry_core::api::HttpRequest;
    /// let r = HttpRequest::new("GET", "/consumer?name=a", "");
    /// assert_eq!((r.path.as_str(), r.query.as_str()), ("/consumer", "name=a"));
    /// ```
    pub fn new(method: &str, target: &str, body: impl Into<Vec<u8>>) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        HttpRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            body: body.into(),
            principal: Principal::open(),
        }
    }

    /// The same request made by `principal`.
    ///
    /// ```
    /// use registry_core::api::HttpRequest;
    /// use registry_core::auth::{Principal, Role};
    /// let p = Principal::new("panel", Role::Consumer, None, None);
    /// let r = HttpRequest::new("GET", "/consumer", "").by(p.clone());
    /// assert_eq!(r.principal, p);
    /// ```
    pub fn by(mut self, principal: Principal) -> Self {
        self.principal = principal;
        self
    }
}

/// A response to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes (empty for 202/204).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A JSON response; the body ends with a newline like reg's.
    pub fn json(status: u16, value: &Value) -> Self {
        let mut body = serde_json::to_vec(value).expect("a JSON value always serializes");
        body.push(b'\n');
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    /// A response without a body (202, 204).
    pub fn empty(status: u16) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (panics on a non-JSON body; for tests and tools).
    pub fn json_body(&self) -> Value {
        serde_json::from_slice(&self.body).expect("response body is JSON")
    }
}
