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

/// Refuses (403) a write that touches an id outside its principal's scope for the intent's
/// action: before any other check, so a refusal tells nothing about the entries.
pub fn scope(w: &Write) -> Result<(), ApiError> {
    let ids = w
        .ops
        .iter()
        .map(|op| &op.id)
        .chain(&w.refresh)
        .chain(&w.order);
    scope_of(&w.principal, w.intent, ids)
}

/// The scope rule of [`scope`] for a write of `intent` by `principal` touching `ids`, for
/// planners that must refuse before they look at the entries (a kind conflict, a create of an
/// existing entry, history read for a rollback): the same 403, decided the same way.
pub fn scope_of<'a>(
    principal: &crate::auth::Principal,
    intent: super::Intent,
    ids: impl IntoIterator<Item = &'a String>,
) -> Result<(), ApiError> {
    let Some(action) = super::policy::action(intent) else {
        return Ok(());
    };
    if !principal.permits(action) {
        return Err(crate::auth::forbidden());
    }
    for id in ids {
        crate::auth::check(principal, action, id)?;
    }
    Ok(())
}

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

/// What a changeset does to the size of the state if its operations apply in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Growth {
    /// Net change in the number of entries.
    pub entries: isize,
    /// Net change in the state's bytes ([`entry_bytes`] summed over entries).
    pub bytes: isize,
    /// Bytes of the entries the changeset leaves (its touched ids that exist after it): what
    /// it needs even in an empty registry.
    pub own_bytes: usize,
}

/// The [`Growth`] of `ops` over a state where `current(id)` is the [`entry_bytes`] of the
/// entry `id` (`None` if it does not exist). Costs O(operations), whatever the state holds.
pub fn growth(ops: &[Op], current: impl Fn(&str) -> Option<usize>) -> Growth {
    // Bytes of each touched id as the operations so far leave it.
    let mut now: HashMap<&str, Option<usize>> = HashMap::new();
    let mut g = Growth::default();
    for op in ops {
        let was = *now.entry(op.id.as_str()).or_insert_with(|| current(&op.id));
        let is = match (&op.entry, op.op) {
            (Some(e), OpKind::Create | OpKind::Update) => Some(entry_bytes(e)),
            _ => None,
        };
        g.entries += is.is_some() as isize - was.is_some() as isize;
        g.bytes += is.unwrap_or(0) as isize - was.unwrap_or(0) as isize;
        now.insert(op.id.as_str(), is);
    }
    g.own_bytes = now.values().flatten().sum();
    g
}

/// The registry-wide bounds on what a write adds: entries (`max_entries`) and state bytes
/// (`max_state_bytes`). A write that does not grow a measure is never refused for it, so
/// deletes, expiry and shrinking rollbacks always pass, even over a bound lowered since.
/// Beyond a bound: 429 `capacity_exceeded` (another write may free room), or 413 `too_large`
/// when the write alone would exceed the state bound in an empty registry.
pub fn capacity(
    g: Growth,
    entries: usize,
    state_bytes: usize,
    limits: &Limits,
) -> Result<(), ApiError> {
    let max = limits.max_entries;
    if g.entries > 0 && entries.saturating_add(g.entries as usize) > max {
        return Err(ApiError::capacity(format!(
            "the registry holds its maximum of {max} entries"
        )));
    }
    let max = limits.max_state_bytes;
    if g.bytes > 0 && state_bytes.saturating_add(g.bytes as usize) > max {
        if g.own_bytes > max {
            return Err(ApiError::too_large(format!(
                "the write's entries are {} bytes, over the registry's limit of {max} bytes",
                g.own_bytes
            )));
        }
        return Err(ApiError::capacity(format!(
            "the registry holds {state_bytes} bytes of entries; this write adds {} and the \
             limit is {max} bytes",
            g.bytes
        )));
    }
    Ok(())
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
