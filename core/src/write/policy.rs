//! Which listeners and validators take part in each kind of write (the table in
//! `docs/ARCHITECTURE.md`, "The write pipeline", with the reason for each row).

use super::Intent;
use crate::auth::Action;

/// What a write of one intent goes through after the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The changeset is ordered by dependencies (creates/updates after what they need).
    pub ordered: bool,
    /// The local listeners (dependency integrity, embedder listeners) are consulted.
    pub listeners: bool,
    /// Remote validators whose criteria match an operation are consulted (the request is held).
    pub validators: bool,
}

/// The policy of an intent.
pub fn of(intent: Intent) -> Policy {
    let p = |ordered, listeners, validators| Policy {
        ordered,
        listeners,
        validators,
    };
    match intent {
        // Providers publish facts about the world and reg clients cannot wait for a remote
        // verdict; the local listeners still guard the resulting state.
        Intent::Registers => p(true, true, false),
        // `/v1` entry writes and transactions: everyone who may object is asked.
        Intent::Entries => p(true, true, true),
        // A rollback changes entries like a transaction does: the same guards apply.
        Intent::Rollback => p(true, true, true),
        // The configuration entry is not propagated: listeners and validators never see it.
        Intent::Config => p(false, false, false),
        // The provider who owns the register decided; its write is a provider write.
        Intent::Verdict => p(true, true, false),
        // Time cannot be vetoed: expired entries go whatever depends on them.
        Intent::Expiry => p(false, false, false),
        // `Service::commit_changeset`: an embedder's changeset, in the embedder's order.
        Intent::Changeset => p(false, false, false),
    }
}

/// The action a write of `intent` performs, for access control (`None`: the registry's own
/// writes, which nobody asks for: TTL expiry and an embedder's changesets).
pub fn action(intent: Intent) -> Option<Action> {
    match intent {
        Intent::Registers => Some(Action::ProviderPublish),
        Intent::Entries => Some(Action::Transaction),
        Intent::Rollback => Some(Action::Rollback),
        Intent::Config => Some(Action::ConfigWrite),
        Intent::Verdict => Some(Action::RequestVerdict),
        Intent::Expiry | Intent::Changeset => None,
    }
}
