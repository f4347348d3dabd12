//! Conversions between workers-rs requests/responses and the core's HTTP-shaped values, with
//! the request body read up to a bound.

use futures_util::StreamExt;
use registry_core::{ApiError, HttpRequest, HttpResponse};
use wasm_bindgen::{JsCast, JsValue};
use worker::{Headers, Request, RequestInit, Response, Result};

/// Oversized bodies up to this size (declared, or read when sent without a length) are read and
/// dropped before the 413 is answered: a client still uploading when its connection closes
/// would see a reset instead of the 413. A larger declared body is answered at once.
const DRAIN_LIMIT: usize = 8 << 20;

/// The 413 for a body over `max_body` bytes.
fn too_large(max_body: usize) -> ApiError {
    ApiError::too_large(format!(
        "request body exceeds the limit of {max_body} bytes"
    ))
}

/// Reads and drops the body of `req`, up to about `limit` bytes.
async fn drain(req: &mut Request, limit: usize) -> Result<()> {
    drain_stream(req.stream()?, limit).await
}

/// Reads and drops what is left of a body, stopping once more than `limit` bytes were read or
/// the body fails (the 413 is answered either way).
async fn drain_stream(mut stream: worker::ByteStream, limit: usize) -> Result<()> {
    let mut read = 0usize;
    while read <= limit {
        match stream.next().await {
            Some(Ok(chunk)) => read = read.saturating_add(chunk.len()),
            Some(Err(_)) | None => break,
        }
    }
    Ok(())
}

/// The body's declared `Content-Length`, if any (one that does not fit a usize is over every
/// limit).
fn declared_length(req: &Request) -> Result<Option<usize>> {
    Ok(req
        .headers()
        .get("content-length")?
        .map(|v| v.trim().parse::<usize>().unwrap_or(usize::MAX)))
}

/// Reads a body whose declared length is within its bound in one call (`arrayBuffer()`: one
/// promise, no stream reader and no chunk copied into wasm). The runtime holds a body to its
/// declared length; the size is checked again all the same.
async fn whole_declared(
    req: &Request,
    max_body: usize,
) -> Result<std::result::Result<js_sys::ArrayBuffer, ApiError>> {
    let promise = req.inner().array_buffer()?;
    let buffer: js_sys::ArrayBuffer = wasm_bindgen_futures::JsFuture::from(promise)
        .await?
        .unchecked_into();
    if buffer.byte_length() as usize > max_body {
        return Ok(Err(too_large(max_body)));
    }
    Ok(Ok(buffer))
}

/// What bounding a body found: a body of declared length read whole (the hot path), or the
/// rest to do as before (no length declared, or one over the bound).
enum Declared {
    /// Read in one call (or refused with 413 when larger than it declared).
    Whole(std::result::Result<js_sys::ArrayBuffer, ApiError>),
    /// Read it as a stream (`read_body`).
    Stream,
}

/// The fast path of bounded reading: a declared length within `max_body` is read whole.
async fn read_declared(req: &Request, max_body: usize) -> Result<Declared> {
    match declared_length(req)? {
        Some(n) if n <= max_body => Ok(Declared::Whole(whole_declared(req, max_body).await?)),
        _ => Ok(Declared::Stream),
    }
}

/// Reads the whole body of `req` (empty if it has none), or answers 413 once it is known to be
/// over `max_body` bytes: from its `Content-Length` before reading (a lying one included), or
/// while reading one sent without.
async fn read_body(
    req: &mut Request,
    max_body: usize,
) -> Result<std::result::Result<Vec<u8>, ApiError>> {
    if req.inner().body().is_none() {
        return Ok(Ok(Vec::new()));
    }
    if let Declared::Whole(read) = read_declared(req, max_body).await? {
        return Ok(read.map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec()));
    }
    if let Some(n) = declared_length(req)?.filter(|n| *n > max_body) {
        if n <= DRAIN_LIMIT {
            drain(req, DRAIN_LIMIT).await?;
        }
        return Ok(Err(too_large(max_body)));
    }
    let mut body = Vec::new();
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len().saturating_add(chunk.len()) > max_body {
            // Sent without a length (chunked): drop the rest as for a declared one.
            let read = body.len().saturating_add(chunk.len());
            drop(body);
            drain_stream(stream, DRAIN_LIMIT.saturating_sub(read)).await?;
            return Ok(Err(too_large(max_body)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(body))
}

/// The request to hand to a Durable Object: `req` itself when it has no body, otherwise a copy
/// carrying its body read here in full, or the 413 when the body is over `max_body` bytes.
///
/// The Worker reads the body itself because answering a request whose body is still being
/// streamed into a Durable Object breaks that stream: the runtime then answers 500 ("Network
/// connection lost") or resets the connection instead of the object's 413.
pub async fn with_bounded_body(
    mut req: Request,
    max_body: usize,
) -> Result<std::result::Result<Request, ApiError>> {
    if req.inner().body().is_none() {
        return Ok(Ok(req));
    }
    // A declared length within the bound (the usual case) is forwarded as the buffer read here,
    // never copied into wasm; anything else is read as a stream into wasm.
    let body: JsValue = match read_declared(&req, max_body).await? {
        Declared::Whole(Ok(buffer)) => buffer.into(),
        Declared::Whole(Err(e)) => return Ok(Err(e)),
        Declared::Stream => match read_body(&mut req, max_body).await? {
            Ok(body) => js_sys::Uint8Array::from(body.as_slice()).into(),
            Err(e) => return Ok(Err(e)),
        },
    };
    let headers: Headers = req.headers().clone();
    // The runtime sets the length of the new body itself.
    headers.delete("content-length")?;
    headers.delete("transfer-encoding")?;
    let mut init = RequestInit::new();
    init.with_method(req.method())
        .with_headers(headers)
        .with_body(Some(body));
    Ok(Ok(Request::new_with_init(req.url()?.as_str(), &init)?))
}

/// Reads a request made by `principal` (whose URL, parsed once by the caller, is `url`) into the
/// core's shape. A body over `max_body` bytes is an error response.
pub async fn from_request(
    req: &mut Request,
    url: &worker::Url,
    principal: registry_core::auth::Principal,
    max_body: usize,
) -> Result<std::result::Result<HttpRequest, ApiError>> {
    let body = match read_body(req, max_body).await? {
        Ok(body) => body,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(HttpRequest {
        method: req.method().to_string(),
        // The raw (still encoded) path, as the core expects.
        path: url.path().to_string(),
        query: url.query().unwrap_or("").to_string(),
        body,
        principal,
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
