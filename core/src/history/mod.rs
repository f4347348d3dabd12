//! Versioned history: every change is a [`Version`] with a reversible [`Changeset`];
//! [`navigate`] reads any past state, diffs two versions and plans rollbacks, with checkpoints
//! bounding the cost of each read.

pub mod changeset;
pub mod navigate;

use serde::{Deserialize, Serialize};

pub use changeset::{
    apply, delta, reverse, same_content, squash, Changeset, ChangesetError, Op, OpKind, State,
};

use crate::duration::Millis;

/// Actor of versions made by TTL expiry.
pub const ACTOR_TTL: &str = "ttl";
/// Actor of versions made by a rollback.
pub const ACTOR_ROLLBACK: &str = "rollback";

/// One commit of the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// The version number (monotonic from 1).
    pub version: u64,
    /// The version it was made on (`version - 1`; history is linear).
    pub parent: u64,
    /// When it was made (Unix ms).
    pub timestamp: Millis,
    /// Who made it (`provider`, `api`, `ttl`, `rollback`, …).
    pub actor: String,
    /// What changed.
    pub changeset: Changeset,
}

/// A full state saved at a version, so that reads near it need not replay from the start.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The version the state is at.
    pub version: u64,
    /// The entries at that version.
    pub state: State,
}
