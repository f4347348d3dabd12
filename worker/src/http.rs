//! Conversions between workers-rs requests/responses and the core's HTTP-shaped values, with
//! the request body read up to a bound.

use futures_util::StreamExt;
use registry_core::{ApiError, HttpRequest, HttpResponse};
use worker::{Headers, Request, Response, Result};

/// Bodies declared up to this size are read and dropped before a 413 is answered.
const DRAIN_LIMIT: usize = 8 << 20;

/// Reads a request into the core's shape. A body over `max_body` bytes is an error response.
pub async fn from_request(
    req: &mut Request,
    max_body: usize,
) -> Result<std::result::Result<HttpRequest, ApiError>> {
    let url = req.url()?;
    let too_large = || {
        ApiError::too_large(format!(
            "request body exceeds the limit of {max_body} bytes"
        ))
    };
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_body) {
        // Read (and drop) a moderately oversized body before answering: a client still
        // uploading when the connection closes sees a reset instead of the 413.
        if declared.is_some_and(|n| n <= DRAIN_LIMIT) && req.inner().body().is_some() {
            let mut stream = req.stream()?;
            while let Some(chunk) = stream.next().await {
                chunk?;
            }
        }
        return Ok(Err(too_large()));
    }
    let mut body = Vec::new();
    if req.inner().body().is_some() {
        let mut stream = req.stream()?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > max_body {
                return Ok(Err(too_large()));
            }
            body.extend_from_slice(&chunk);
        }
    }
    Ok(Ok(HttpRequest {
        method: req.method().to_string(),
        // The raw (still encoded) path, as the core expects.
        path: url.path().to_string(),
        query: url.query().unwrap_or("").to_string(),
        body,
    }))
}

/// Turns a core response into a workers-rs response.
pub fn to_response(r: HttpResponse) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in &r.headers {
        headers.append(k, v)?;
    }
    let response = if r.body.is_empty() {
        Response::empty()?
    } else {
        Response::from_bytes(r.body)?
    };
    Ok(response.with_status(r.status).with_headers(headers))
}
