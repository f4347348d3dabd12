//! `watch(criteria)` on long polls: the registry has no long poll for queries, so each query
//! stream checks the registry version every second (`GET /v1/health`) and, when it moved,
//! re-reads the result (`GET /v1/entries?where=…`), yielding it when it differs. Items carry no
//! `ops` on this transport.

use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsValue;

use crate::client_v1::{all_pages, entries_url};
use crate::convert::{get, get_u64, object, parse, stringify};
use crate::shared::SharedRef;
use crate::stream::{self, Stream};
use crate::transport::send;

/// How often the registry version is checked (ms).
const INTERVAL: u32 = 1_000;

/// Starts the poll loop of one query stream; it ends with the stream or the client.
pub fn start(shared: &SharedRef, stream: Stream, criteria: Vec<String>) {
    wasm_bindgen_futures::spawn_local(run(shared.clone(), stream, criteria));
}

async fn run(shared: SharedRef, stream: Stream, criteria: Vec<String>) {
    let (mut seen, mut last): (Option<u64>, Option<String>) = (None, None);
    loop {
        let (base, signal, token) = {
            let s = shared.borrow();
            if s.closed || stream::is_closed(&stream) {
                return;
            }
            s.endpoint()
        };
        let version = match send(
            "GET",
            &format!("{base}/v1/health"),
            None,
            Some(&signal),
            token.as_deref(),
        )
        .await
        {
            Ok(reply) if reply.status == 200 => reply
                .version
                .or_else(|| parse(&reply.body).ok().and_then(|d| get_u64(&d, "version"))),
            _ => None,
        };
        if version.is_some() && version != seen {
            let url = entries_url(&base, &criteria);
            match all_pages(url, signal, token).await {
                Ok(entries) => {
                    seen = version;
                    // The result changed iff its ids or their versions did (a TTL refresh
                    // moves `expires_at` but is no change).
                    let text = Some(
                        js_sys::Array::from(&entries)
                            .iter()
                            .map(|e| {
                                let id = stringify(&get(&e, "id")).unwrap_or_default();
                                format!("{id}@{}", get_u64(&e, "version").unwrap_or(0))
                            })
                            .collect::<Vec<_>>()
                            .join(","),
                    );
                    if text != last && !stream::is_closed(&stream) {
                        last = text;
                        let version = JsValue::from_f64(version.unwrap_or(0) as f64);
                        let item = object(&[("version", version), ("entries", entries)]);
                        stream::push(&stream, item.into());
                    }
                }
                // A bad query: the stream ends with the registry's error.
                Err(e) if get(&e, "status").as_f64() == Some(400.0) => {
                    return stream::fail(&stream, e);
                }
                Err(_) => {}
            }
        }
        TimeoutFuture::new(INTERVAL).await;
    }
}
