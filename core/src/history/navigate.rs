//! Reading the past: `state_at`, `diff`, and the changeset of a rollback. Each read starts from
//! the closest known state — the checkpoint at or below the version, the one above it, or the
//! head — so its cost is bounded by the checkpoint interval, not by the history length.

use thiserror::Error;

use super::changeset::{
    apply, delta, reverse, same_content, squash, Changeset, ChangesetError, OpKind, State,
};
use super::Checkpoint;
use crate::store::{HistoryStore, StoreError};

/// Why a version cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The version does not exist yet.
    #[error("version {version} does not exist (head is {head})")]
    Unknown {
        /// The version asked for.
        version: u64,
        /// The current head.
        head: u64,
    },
    /// The version was folded into the base checkpoint by retention.
    #[error(
        "version {version} is older than retention: the oldest readable state is at version {base}"
    )]
    Folded {
        /// The version asked for.
        version: u64,
        /// The oldest readable version.
        base: u64,
    },
    /// Stored history is inconsistent (a bug or corruption).
    #[error("history is inconsistent: {0}")]
    Corrupt(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ChangesetError> for HistoryError {
    fn from(e: ChangesetError) -> Self {
        HistoryError::Corrupt(e.to_string())
    }
}

/// What navigation needs to know about the registry now.
pub struct Head<'a> {
    /// Current version.
    pub version: u64,
    /// Oldest readable version (versions before it are folded into its checkpoint).
    pub base: u64,
    /// Builds the current state (content); called only by reads that start from the head.
    pub current: &'a dyn Fn() -> State,
}

fn check(head: &Head<'_>, v: u64) -> Result<(), HistoryError> {
    if v > head.version {
        return Err(HistoryError::Unknown {
            version: v,
            head: head.version,
        });
    }
    if v < head.base {
        return Err(HistoryError::Folded {
            version: v,
            base: head.base,
        });
    }
    Ok(())
}

/// The changesets of versions `from+1 ..= to`, in order.
fn changesets(
    store: &dyn HistoryStore,
    from: u64,
    to: u64,
) -> Result<Vec<Changeset>, HistoryError> {
    let versions = store.versions(from + 1, to)?;
    if versions.len() as u64 != to - from {
        return Err(HistoryError::Corrupt(format!(
            "versions {}..={to}: found {} of {}",
            from + 1,
            versions.len(),
            to - from
        )));
    }
    Ok(versions.into_iter().map(|v| v.changeset).collect())
}

/// The state at version `v`.
pub fn state_at(store: &dyn HistoryStore, head: &Head<'_>, v: u64) -> Result<State, HistoryError> {
    check(head, v)?;
    if v == head.version {
        return Ok((head.current)());
    }
    // Without folding, the base is version 0, whose state is empty.
    let below = store.checkpoint_at_or_below(v)?.or_else(|| {
        (head.base == 0).then(|| Checkpoint {
            version: 0,
            state: State::new(),
        })
    });
    let above = store.checkpoint_at_or_above(v)?;
    let from_below = below.as_ref().map(|c| v - c.version);
    let from_above = above.as_ref().map(|c| c.version - v).unwrap_or(u64::MAX);
    let from_head = head.version - v;
    match from_below {
        Some(cost) if cost <= from_above.min(from_head) => {
            let mut state = below.expect("cost implies a checkpoint").state;
            for cs in changesets(store, v - cost, v)? {
                apply(&mut state, &cs)?;
            }
            Ok(state)
        }
        _ => {
            let (mut state, top) = match above {
                Some(c) if from_above < from_head => (c.state, c.version),
                _ => ((head.current)(), head.version),
            };
            for cs in changesets(store, v, top)?.iter().rev() {
                apply(&mut state, &reverse(cs))?;
            }
            Ok(state)
        }
    }
}

/// The squashed changeset from version `a` to version `b` (backwards when `b < a`), without
/// updates that leave an entry's content as it was.
pub fn diff(
    store: &dyn HistoryStore,
    head: &Head<'_>,
    a: u64,
    b: u64,
) -> Result<Changeset, HistoryError> {
    check(head, a)?;
    check(head, b)?;
    let (lo, hi) = (a.min(b), a.max(b));
    let css = changesets(store, lo, hi)?;
    let mut forward = squash(css.iter().map(Vec::as_slice))?;
    // An entry changed and changed back differs only in its version field: not a difference.
    forward.retain(|op| match (op.op, &op.before, &op.entry) {
        (OpKind::Update, Some(b), Some(e)) => !same_content(b, e),
        _ => true,
    });
    Ok(if a <= b { forward } else { reverse(&forward) })
}

/// The changeset of a rollback to `v`: `delta(current, state_at(v))`.
pub fn rollback_changeset(
    store: &dyn HistoryStore,
    head: &Head<'_>,
    v: u64,
) -> Result<Changeset, HistoryError> {
    let target = state_at(store, head, v)?;
    Ok(delta(&(head.current)(), &target))
}
