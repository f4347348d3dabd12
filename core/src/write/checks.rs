//! The checks every write passes, each written once: entry shape and size, TTL bounds,
//! expected versions (`if_version`), fit with the current state, capacity, and dependency
//! cycles anywhere in the resulting state. They run before anything is planned for the store,
//! so a refused write changes nothing.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::api::{ApiError, Reason};
use crate::config::Limits;
use crate::deps::dependencies;
use crate::duration::{parse_go_duration, positive_millis, Millis};
use crate::entry::Entry;
use crate::history::{Op, OpKind};
use crate::listen::TxContext;

use super::{Respond, Write};

/// Kinds are dot-separated segments of `A-Z a-z 0-9 _ -` (`register`, `ns.dependency`).
pub fn validate_kind(kind: &str) -> Result<(), ApiError> {
    let ok = !kind.is_empty()
        && kind.len() <= 128
        && kind.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "invalid_kind",
            format!("invalid kind {kind:?}: use dot-separated segments of A-Z a-z 0-9 _ -"),
        ))
    }
}

/// A TTL given as a Go duration (`"10s"`): positive, in whole milliseconds rounded up. Its
/// upper bound is checked with the entry ([`entry`]).
pub fn ttl_text(text: &str) -> Result<Millis, String> {
    let nanos = parse_go_duration(text).map_err(|e| format!("ttl: {e}"))?;
    positive_millis(nanos).ok_or_else(|| format!("ttl must be positive, got {text:?}"))
}

/// The size an entry counts for: its id, data and metadata as JSON text.
pub fn entry_bytes(e: &Entry) -> usize {
    e.id.len() + json_len(&e.data) + json_len(&e.meta)
}

/// The length of a value's JSON text, counted without building the text.
pub fn json_len<T: serde::Serialize>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing into a counter cannot fail; a value that cannot serialize counts what it wrote.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// Checks one entry a write creates or updates: kind, size and TTL. `what` names it in the
/// error (`entry "a"`, `operation 2: entry "a"`); it is only called for a refusal, so that a
/// passing check formats nothing.
pub fn entry(e: &Entry, limits: &Limits, what: impl Fn() -> String) -> Result<(), ApiError> {
    validate_kind(&e.kind)
        .map_err(|err| ApiError::new(400, err.code, format!("{}: {}", what(), err.message)))?;
    let size = entry_bytes(e);
    if size > limits.max_entry_bytes {
        return Err(ApiError::too_large(format!(
            "{} is {size} bytes, over the limit of {} bytes",
            what(),
            limits.max_entry_bytes
        )));
    }
    if let Some(ttl) = e.ttl_ms {
        if ttl == 0 || ttl > limits.max_ttl_ms {
            return Err(ApiError::new(
                400,
                "invalid_ttl",
                format!(
                    "{}: ttl of {ttl} ms is outside 1 ms ..= {} ms",
                    what(),
                    limits.max_ttl_ms
                ),
            ));
        }
    }
    Ok(())
}

/// `if_version` of one entry: 0 = it must not exist, n = its version must be n. The reason
/// when it does not hold.
pub fn if_version(id: &str, current: Option<&Entry>, expected: u64) -> Option<String> {
    let actual = current.map_or(0, |e| e.version);
    (actual != expected).then(|| format!("{id:?} is at version {actual}, not {expected}"))
}

/// `if_version` of the whole registry. The reason when it does not hold.
pub fn if_head(head: u64, expected: u64) -> Option<String> {
    (head != expected).then(|| format!("the registry is at version {head}, not {expected}"))
}

/// A refusal for version conflicts, shaped for the request that made it: a transaction lists
/// every reason (`conflict`); a single-entry, rollback or config write names the one
/// (`version_conflict`).
pub fn conflict(respond: &Respond, reasons: Vec<Reason>) -> ApiError {
    match respond {
        Respond::Tx => ApiError::refused(409, "conflict", reasons),
        _ => {
            let text = Reason::joined(&reasons);
            ApiError::new(
                409,
                "version_conflict",
                format!("{text}; nothing was written"),
            )
            .with_reasons(reasons)
        }
    }
}

/// A reason about an operation of a write (its index in request order, its id).
pub fn reason(w: &Write, id: Option<&str>, text: String) -> Reason {
    Reason {
        op: id.and_then(|id| w.index_of(id)),
        id: id.map(str::to_string),
        listener: None,
        reason: text,
    }
}

/// Net change in the number of entries if `ops` apply in turn (`present` says whether an id
/// exists now).
pub fn entry_count_delta(ops: &[Op], present: impl Fn(&str) -> bool) -> isize {
    if let [op] = ops {
        // One operation (most writes): no map of what earlier operations left.
        return (op.op != OpKind::Delete) as isize - present(&op.id) as isize;
    }
    let mut exists: HashMap<&str, bool> = HashMap::new();
    let mut delta = 0isize;
    for op in ops {
        let was = *exists
            .entry(op.id.as_str())
            .or_insert_with(|| present(&op.id));
        let is = op.op != OpKind::Delete;
        delta += is as isize - was as isize;
        exists.insert(op.id.as_str(), is);
    }
    delta
}

/// A dependency cycle that the write would close anywhere in the resulting state (not only
/// among its own operations): from each created or updated entry, follow what the entries
/// depend on after the write; reaching the entry again names the cycle.
pub fn cycle(ctx: &TxContext<'_>, ops: &[Op]) -> Option<Vec<String>> {
    let needs_after = |id: &str| -> BTreeSet<String> {
        ctx.entry_after(id)
            .map(|e| dependencies(e, ctx.patterns()))
            .unwrap_or_default()
    };
    for op in ops {
        let Some(e) = &op.entry else { continue };
        let first = dependencies(e, ctx.patterns());
        if first.is_empty() {
            continue;
        }
        // Depth-first, remembering how each id was reached to name the cycle.
        let mut came_from: HashMap<String, String> = HashMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack: Vec<String> = Vec::new();
        for d in first {
            came_from.entry(d.clone()).or_insert_with(|| op.id.clone());
            stack.push(d);
        }
        while let Some(cur) = stack.pop() {
            if cur == op.id {
                let mut path = vec![op.id.clone()];
                let mut at = came_from[&op.id].clone();
                while at != op.id {
                    path.push(at.clone());
                    at = came_from[&at].clone();
                }
                path.push(op.id.clone());
                path.reverse();
                return Some(path);
            }
            if !seen.insert(cur.clone()) {
                continue;
            }
            for next in needs_after(&cur) {
                if !seen.contains(&next) {
                    came_from.entry(next.clone()).or_insert_with(|| cur.clone());
                    stack.push(next);
                }
            }
        }
    }
    None
}
