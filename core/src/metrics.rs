//! `GET /metrics`: the registry in the Prometheus text exposition format (version 0.0.4).
//!
//! - Every register (an entry of kind `register`) whose value is a number or a boolean is one
//!   sample of the gauge `registry_register_value` (booleans as 1/0), labelled by its id, its
//!   name segments and its metadata keys (see [`register_labels`]).
//! - The registry itself: head version, entries, change requests by status, held requests by
//!   kind, open WebSockets and event streams, watches, and the [`Counters`] since the object
//!   started.
//! - Scope: register gauges are filtered with [`Principal::may_read`]; numbers about the whole
//!   registry are given only to a principal without prefix restriction (like `/v1/health`).
//! - Bounded: at most `Limits::max_metric_gauges` register samples and
//!   `Limits::max_metrics_bytes` bytes of them, in id order; when anything is left out,
//!   `registry_metrics_truncated` is 1. The scan stops at the bound, so the answer's size and
//!   time do not grow with the registry beyond one pass over its ids.

use std::fmt::Write as _;

use serde_json::Value;

use crate::api::HttpResponse;
use crate::auth::Principal;
use crate::entry::{Entry, REGISTER_KIND};
use crate::service::Service;
use crate::store::Store;
use crate::waiters::WaitKind;

/// The content type of the Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Most name segments given as labels (`segment_1` …); further segments stay in `id`.
pub const MAX_SEGMENTS: usize = 8;

/// Most metadata labels per register (in key order).
pub const MAX_META_LABELS: usize = 16;

/// Longest label value, in bytes (longer ones are cut at a character boundary).
pub const MAX_LABEL_VALUE: usize = 256;

/// Counters since the object started (kept in memory by the [`Service`], not stored: they
/// restart at 0 with the object, which Prometheus treats as a counter reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Versions written (commits that changed an entry).
    pub versions_written: u64,
    /// API writes (`/v1/tx`, `/v1/entries/{id}` writes, rollbacks) that committed.
    pub transactions_committed: u64,
    /// API writes refused after decoding (scope, conflicts, listeners, validators, bounds).
    pub transactions_rejected: u64,
    /// Entries deleted because their TTL ran out.
    pub expiries: u64,
    /// Requests answered `400 Bad Request` (malformed or invalid input).
    pub bad_requests: u64,
}

/// Labels of one register's sample: `id`, `segment_1`… (the id split at `:`, `.` and `/`,
/// empty segments kept), then `meta_<key>` for each metadata value that is a string, number
/// or boolean. Keys are sanitised to `[a-zA-Z0-9_]` (anything else becomes `_`); a key that
/// sanitises to a name already used is left out.
///
/// ```
/// use registry_core::metrics::register_labels;
/// let mut e: registry_core::Entry = serde_json::from_value(serde_json::json!({
///     "id": "kitchen:temp", "kind": "register", "version": 1,
///     "meta": {"unit": "C", "max-v": 40, "nested": {"x": 1}}})).unwrap();
/// let labels = register_labels(&e);
/// assert_eq!(labels, vec![
///     ("id".to_string(), "kitchen:temp".to_string()),
///     ("segment_1".into(), "kitchen".into()), ("segment_2".into(), "temp".into()),
///     ("meta_max_v".into(), "40".into()), ("meta_unit".into(), "C".into())]);
/// ```
pub fn register_labels(e: &Entry) -> Vec<(String, String)> {
    let mut labels = vec![("id".to_string(), cut(&e.id))];
    for (i, seg) in e.id.split([':', '.', '/']).take(MAX_SEGMENTS).enumerate() {
        labels.push((format!("segment_{}", i + 1), cut(seg)));
    }
    let mut meta = 0;
    for (key, value) in &e.meta {
        if meta == MAX_META_LABELS {
            break;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        let name = format!("meta_{}", sanitise(key));
        if labels.iter().any(|(n, _)| *n == name) {
            continue;
        }
        labels.push((name, cut(&text)));
        meta += 1;
    }
    labels
}

/// The sample value of a register: a finite number, or a boolean as 1/0.
pub fn sample_value(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn sanitise(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn cut(text: &str) -> String {
    if text.len() <= MAX_LABEL_VALUE {
        return text.to_string();
    }
    let mut end = MAX_LABEL_VALUE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// A label value escaped for the text format (`\`, `"`, newline).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The text of one sample line.
fn sample(name: &str, labels: &[(String, String)], value: f64) -> String {
    let mut line = String::from(name);
    if !labels.is_empty() {
        line.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = write!(line, "{k}=\"{}\"", escape(v));
        }
        line.push('}');
    }
    let _ = writeln!(line, " {value}");
    line
}

/// Writes one metric family: its help, its type and its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[String]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for s in samples {
        out.push_str(s);
    }
}

fn labelled(name: &str, label: &str, values: &[(&str, usize)]) -> Vec<String> {
    values
        .iter()
        .map(|(v, n)| sample(name, &[(label.to_string(), v.to_string())], *n as f64))
        .collect()
}

impl<S: Store> Service<S> {
    /// The counters since the object started.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// `GET /metrics` for `principal` (see the module documentation).
    pub(crate) fn metrics(&self, principal: &Principal) -> HttpResponse {
        let mut out = String::new();
        let one = |name: &str, v: f64| vec![sample(name, &[], v)];
        let (registers, truncated) = self.register_samples(principal);
        family(
            &mut out,
            "registry_register_value",
            "gauge",
            "Value of each register holding a number or a boolean (true = 1, false = 0).",
            &registers,
        );
        family(
            &mut out,
            "registry_metrics_truncated",
            "gauge",
            "1 when register gauges were left out to keep this answer bounded.",
            &one(
                "registry_metrics_truncated",
                if truncated { 1.0 } else { 0.0 },
            ),
        );
        family(
            &mut out,
            "registry_head_version",
            "gauge",
            "The registry's head version.",
            &one("registry_head_version", self.registry.head() as f64),
        );
        if principal.is_unrestricted() {
            self.registry_families(&mut out);
        }
        HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), CONTENT_TYPE.into())],
            body: out.into_bytes(),
        }
    }

    /// The register samples the principal may read, within the bounds; whether any was left
    /// out.
    fn register_samples(&self, principal: &Principal) -> (Vec<String>, bool) {
        let mut samples = Vec::new();
        let mut bytes = 0;
        for e in self.registry.entries() {
            if e.kind != REGISTER_KIND || !principal.may_read(&e.id) {
                continue;
            }
            let Some(value) = sample_value(&e.data) else {
                continue;
            };
            let line = sample("registry_register_value", &register_labels(e), value);
            if samples.len() == self.limits.max_metric_gauges
                || bytes + line.len() > self.limits.max_metrics_bytes
            {
                return (samples, true);
            }
            bytes += line.len();
            samples.push(line);
        }
        (samples, false)
    }

    /// The numbers about the whole registry.
    fn registry_families(&self, out: &mut String) {
        let gauge = |out: &mut String, name: &str, help: &str, v: usize| {
            family(out, name, "gauge", help, &[sample(name, &[], v as f64)]);
        };
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            family(out, name, "counter", help, &[sample(name, &[], v as f64)]);
        };
        gauge(
            out,
            "registry_entries",
            "Entries in the registry (registers included).",
            self.registry.len(),
        );
        let statuses = self.registry.request_status_counts();
        let requests: Vec<(&str, usize)> = [
            "pending",
            "delivered",
            "accepted",
            "rejected",
            "superseded",
            "expired",
        ]
        .iter()
        .map(|s| (*s, statuses.get(s).copied().unwrap_or(0)))
        .collect();
        family(
            out,
            "registry_change_requests",
            "gauge",
            "Change requests by status (pending and delivered ones, and the finished outcomes kept).",
            &labelled("registry_change_requests", "status", &requests),
        );
        let mut held = [0usize; 4];
        for w in self.waiters.iter() {
            held[match w.kind {
                WaitKind::Values => 0,
                WaitKind::Requests => 1,
                WaitKind::Outcome => 2,
                WaitKind::Tx => 3,
            }] += 1;
        }
        family(
            out,
            "registry_held_requests",
            "gauge",
            "Requests held open: consumer and provider long polls, outcome polls, transactions awaiting validators.",
            &labelled(
                "registry_held_requests",
                "kind",
                &[
                    ("consumer", held[0]),
                    ("provider", held[1]),
                    ("outcome", held[2]),
                    ("transaction", held[3]),
                ],
            ),
        );
        // SSE sessions are the unsaved ones (still open: in the map).
        let sse = self
            .sessions
            .map
            .keys()
            .filter(|c| self.sessions.ephemeral.contains(c))
            .count();
        let all = self.sessions.map.len();
        family(
            out,
            "registry_streams",
            "gauge",
            "Open stream connections by transport.",
            &labelled(
                "registry_streams",
                "transport",
                &[("websocket", all.saturating_sub(sse)), ("sse", sse)],
            ),
        );
        let watches = self.sessions.map.values().map(|s| s.watches.len()).sum();
        gauge(
            out,
            "registry_watches",
            "Watches over all open streams.",
            watches,
        );
        let c = self.counters;
        counter(
            out,
            "registry_versions_written_total",
            "Versions written since the object started.",
            c.versions_written,
        );
        counter(
            out,
            "registry_transactions_committed_total",
            "API writes (transactions, entry writes, rollbacks) committed since the object started.",
            c.transactions_committed,
        );
        counter(
            out,
            "registry_transactions_rejected_total",
            "API writes (transactions, entry writes, rollbacks) refused since the object started.",
            c.transactions_rejected,
        );
        counter(
            out,
            "registry_expiries_total",
            "Entries expired (TTL) since the object started.",
            c.expiries,
        );
        counter(
            out,
            "registry_bad_requests_total",
            "Requests answered 400 Bad Request since the object started.",
            c.bad_requests,
        );
    }
}
