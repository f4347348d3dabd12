//! The one write pipeline. Every kind of write — a provider's registers, `/v1` entry writes
//! and transactions, a rollback, a configuration change, a verdict that applies its value, TTL
//! expiry — is first planned by its route as a [`Write`] (an intent, an actor and a changeset),
//! then goes through the same stages in [`Service::write`]:
//!
//! 1. **checks** ([`checks`]), each written once: entry kind, size and TTL bounds; expected
//!    versions (`if_version`); fit with the current state; capacity; dependency cycles anywhere
//!    in the resulting state;
//! 2. **policy** ([`policy`]): the intent decides whether the changeset is ordered by
//!    dependencies and which listeners and remote validators are consulted; every one that
//!    applies is asked and every reason is returned;
//! 3. **commit**: one store transaction, then the in-memory state, then effects (wake-ups,
//!    stream messages), in [`Service::commit`].
//!
//! A new kind of write only needs a planner that builds a [`Write`] and a row in the policy
//! table.

pub mod checks;
pub mod policy;

use serde_json::json;

use crate::api::{ApiError, HttpResponse, Reason};
use crate::auth::Principal;
use crate::duration::Millis;
use crate::history::{Changeset, Op};
use crate::service::{Reply, Service};
use crate::store::{Commit, Store};

/// What kind of write a changeset comes from: decides its policy ([`policy::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// `PUT /provider`, a WebSocket `provide`.
    Registers,
    /// `PUT`/`DELETE /v1/entries/{id}` (one-operation transactions) and `POST /v1/tx`.
    Entries,
    /// `POST /v1/rollback`.
    Rollback,
    /// `PUT /v1/config`.
    Config,
    /// A provider's verdict that accepts and applies the requested value.
    Verdict,
    /// TTL expiry of entries (and of change requests riding along).
    Expiry,
    /// [`Service::commit_changeset`]: an embedder's changeset.
    Changeset,
}

/// How the answer to a committed write is shaped.
#[derive(Debug, Clone, PartialEq)]
pub enum Respond {
    /// `POST /v1/tx`: `{"version","changeset"}`.
    Tx,
    /// `PUT /v1/entries/{id}`: the entry (201 if created).
    Put {
        /// The entry.
        id: String,
        /// Whether it did not exist.
        created: bool,
    },
    /// `DELETE /v1/entries/{id}`: `{"version"}`.
    Delete,
    /// `POST /v1/rollback`: `{"version","to","changeset"}`.
    Rollback {
        /// The version rolled back to.
        to: u64,
    },
    /// `PUT /v1/config`: the configuration in force.
    Config,
    /// A provider write: 204.
    Registers,
    /// Nothing to answer (expiry, verdicts, embedder changesets).
    Nothing,
}

/// A planned write: what changes, who asks, what was expected of the state.
#[derive(Debug, Clone)]
pub struct Write {
    /// Its kind.
    pub intent: Intent,
    /// The actor its version records.
    pub actor: String,
    /// Who asks: every id it touches must be in this principal's scope for the intent's
    /// action ([`policy::action`]); open for the registry's own writes.
    pub principal: Principal,
    /// The changeset: creates and updates carry the entry after (version and expiry are
    /// stamped at commit), updates and deletes the entry before.
    pub ops: Vec<Op>,
    /// Unchanged entries whose expiry is renewed (no version, nobody woken).
    pub refresh: Vec<String>,
    /// Entry ids in request order (the `op` index of reasons).
    pub order: Vec<String>,
    /// `if_version` of the registry.
    pub if_head: Option<u64>,
    /// `if_version` of entries.
    pub if_versions: Vec<(String, u64)>,
    /// Conflicts its planner found (a create of an existing entry, an update of a missing
    /// one): reported with the version conflicts, after the entry checks.
    pub conflicts: Vec<Reason>,
    /// How to answer once committed.
    pub respond: Respond,
    /// Change-request bookkeeping written in the same commit (verdicts, implicit accepts,
    /// expired requests).
    pub extra: Commit,
}

impl Write {
    /// An empty write of `intent` by `actor`.
    pub fn new(intent: Intent, actor: &str, respond: Respond) -> Self {
        Write {
            intent,
            actor: actor.to_string(),
            principal: Principal::open(),
            ops: Vec::new(),
            refresh: Vec::new(),
            order: Vec::new(),
            if_head: None,
            if_versions: Vec::new(),
            conflicts: Vec::new(),
            respond,
            extra: Commit::default(),
        }
    }

    /// The same write asked by `principal`: its version's actor becomes the token's name
    /// (the endpoint's actor stays in open mode).
    pub fn by(mut self, principal: &Principal) -> Self {
        self.actor = principal.actor(&self.actor).to_string();
        self.principal = principal.clone();
        self
    }

    /// The index of `id` in request order.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.order.iter().position(|o| o == id)
    }

    /// How an entry is named in errors: with its operation index in multi-operation writes.
    fn what(&self, id: &str) -> String {
        match (self.order.len() > 1, self.index_of(id)) {
            (true, Some(i)) => format!("operation {i}: entry {id:?}"),
            _ => format!("entry {id:?}"),
        }
    }
}

impl<S: Store> Service<S> {
    /// Runs a planned write through the pipeline: checks, ordering, listeners and validators
    /// (as its policy says), then one commit. A refusal at any stage changes nothing; a write
    /// held for remote validators answers [`Reply::Wait`].
    pub(crate) fn write(&mut self, w: Write, now: Millis) -> Result<Reply, ApiError> {
        let counted = matches!(w.intent, Intent::Entries | Intent::Rollback);
        let result = self.write_inner(w, now);
        match &result {
            // Held for validators: counted when it finishes (`Service::resume`).
            Ok(Reply::Wait { .. }) => {}
            done if counted => self.count_transaction(done.is_ok()),
            _ => {}
        }
        result
    }

    /// Counts an API write that committed (or was refused) in the metrics counters.
    pub(crate) fn count_transaction(&mut self, committed: bool) {
        if committed {
            self.counters.transactions_committed += 1;
        } else {
            self.counters.transactions_rejected += 1;
        }
    }

    fn write_inner(&mut self, mut w: Write, now: Millis) -> Result<Reply, ApiError> {
        let policy = policy::of(w.intent);
        self.check_write(&w)?;
        if policy.ordered && w.ops.len() > 1 {
            w.ops = self.order_ops(std::mem::take(&mut w.ops))?;
        }
        let reasons = if policy.listeners && !w.ops.is_empty() {
            self.consult_listeners(&w)
        } else {
            Vec::new()
        };
        if policy.validators && !w.ops.is_empty() {
            let asks = self.validator_asks(&w.ops);
            if !asks.is_empty() {
                return self.hold_for_validators(w, asks, reasons, now);
            }
        }
        if !reasons.is_empty() {
            return Err(ApiError::refused(422, "rejected", reasons));
        }
        self.commit_write(w, policy.listeners, now)
            .map(Reply::Respond)
    }

    /// Stage 1: every check, in the order a client fixes them (malformed, then conflicting,
    /// then over capacity, then inconsistent).
    fn check_write(&self, w: &Write) -> Result<(), ApiError> {
        checks::scope(w)?;
        for op in &w.ops {
            if let Some(e) = &op.entry {
                checks::entry(e, &self.limits, || w.what(&op.id))?;
            }
        }
        let mut conflicts: Vec<Reason> = w.conflicts.clone();
        if let Some(expected) = w.if_head {
            if let Some(text) = checks::if_head(self.registry.head(), expected) {
                conflicts.push(checks::reason(w, None, text));
            }
        }
        for (id, expected) in &w.if_versions {
            if let Some(text) = checks::if_version(id, self.registry.get(id), *expected) {
                conflicts.push(checks::reason(w, Some(id), text));
            }
        }
        if !conflicts.is_empty() {
            // In request order: the registry's own first, then by operation.
            conflicts.sort_by_key(|r| r.op);
            return Err(checks::conflict(&w.respond, conflicts));
        }
        self.registry
            .check_changeset(&w.ops)
            .map_err(|e| ApiError::new(409, "changeset_conflict", e.to_string()))?;
        self.check_capacity(&w.ops)?;
        // A cycle the write would close runs through an entry it writes that depends on
        // something: with none, the (costlier) search is skipped.
        let patterns = &self.config.patterns;
        if w.ops.iter().any(|op| {
            op.entry
                .as_ref()
                .is_some_and(|e| !crate::deps::dependencies(e, patterns).is_empty())
        }) {
            let ctx = crate::listen::TxContext::new(
                &self.registry,
                &self.deps,
                &self.config.patterns,
                &w.ops,
            );
            if let Some(cycle) = checks::cycle(&ctx, &w.ops) {
                let text = crate::deps::CycleError(cycle.clone()).to_string();
                return Err(ApiError::refused(
                    422,
                    "rejected",
                    vec![Reason {
                        op: w.index_of(&cycle[0]),
                        id: cycle.first().cloned(),
                        listener: Some("dependency-order".into()),
                        reason: text,
                    }],
                ));
            }
        }
        Ok(())
    }

    /// The registry-wide bounds (entries, state bytes) over the state as it is now: part of
    /// stage 1, and checked again when a write held for validators is finally committed (the
    /// registry may have grown meanwhile).
    pub(crate) fn check_capacity(&self, ops: &[Op]) -> Result<(), ApiError> {
        let growth = checks::growth(ops, |id| self.registry.get(id).map(checks::entry_bytes));
        checks::capacity(
            growth,
            self.registry.len(),
            self.registry.state_bytes(),
            &self.limits,
        )
    }

    /// Stage 2: the local listeners; every rejection, none left out.
    fn consult_listeners(&mut self, w: &Write) -> Vec<Reason> {
        let index_of = |id: &str| w.index_of(id);
        self.run_listeners(&w.ops, &index_of)
    }

    /// Stage 3: one commit of the planned changeset with its bookkeeping, then the answer.
    /// `listened`: the listeners took part and are told the outcome.
    pub(crate) fn commit_write(
        &mut self,
        w: Write,
        listened: bool,
        now: Millis,
    ) -> Result<HttpResponse, ApiError> {
        let mut commit = self.registry.plan_write(now, &w.actor, w.ops, &w.refresh);
        let extra = w.extra;
        commit.put_requests.extend(extra.put_requests);
        commit.delete_requests.extend(extra.delete_requests);
        commit.put_records.extend(extra.put_records);
        commit.delete_records.extend(extra.delete_records);
        commit.resolved.extend(extra.resolved);
        commit.requested.extend(extra.requested);
        if extra.meta.next_request_id > commit.meta.next_request_id {
            commit.meta.next_request_id = extra.meta.next_request_id;
        }
        let version = match self.commit(commit) {
            Ok(v) => v,
            Err(e) => {
                if listened {
                    self.listeners_discard();
                }
                return Err(e);
            }
        };
        let head = self.registry.head();
        if listened {
            match &version {
                Some(_) => self.listeners_committed(head),
                None => self.listeners_discard(),
            }
        }
        let changeset: Changeset = version.map(|v| v.changeset).unwrap_or_default();
        Ok(match w.respond {
            Respond::Tx => {
                HttpResponse::json(200, &json!({"version": head, "changeset": changeset}))
            }
            Respond::Put { id, created } => {
                let e = self.registry.get(&id);
                HttpResponse::json(if created { 201 } else { 200 }, &json!(e))
            }
            Respond::Delete => HttpResponse::json(200, &json!({ "version": head })),
            Respond::Rollback { to } => HttpResponse::json(
                200,
                &json!({"version": head, "to": to, "changeset": changeset}),
            ),
            Respond::Config => self.config_response(),
            Respond::Registers => HttpResponse::empty(204),
            Respond::Nothing => HttpResponse::empty(204),
        })
    }
}
