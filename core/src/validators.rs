//! Remote validators: stream clients that registered criteria take part in every transaction
//! touching a matching entry. The transaction is held (as a waiter) until each of them decided
//! or the timeout passed; any rejection, silence or disconnection discards it (SPEC §4.3).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::api::{ApiError, HttpResponse, Reason};
use crate::duration::Millis;
use crate::history::Op;
use crate::registry::history_entry;
use crate::service::{Reply, Service};
use crate::store::Store;
use crate::stream::wire::{self, ServerMsg, WireOp};
use crate::stream::ConnId;
use crate::waiters::{WaitKind, WaiterId};
use crate::write::Write;

/// A transaction waiting for remote verdicts.
#[derive(Debug)]
pub struct PendingTx {
    /// The write, checked and ordered.
    write: Write,
    awaiting: BTreeSet<(ConnId, String)>,
    /// Every reason given so far (local listeners first, then validators).
    reasons: Vec<Reason>,
}

/// Validators to ask: (connection, validator id, the matching operations as a JSON array).
pub(crate) type Asks = Vec<(ConnId, String, Box<serde_json::value::RawValue>)>;

/// The pending transactions of a registry, by the id of the waiter that holds each; that id
/// is also the transaction's id on the wire (`tx`).
pub type PendingTxs = BTreeMap<WaiterId, PendingTx>;

impl<S: Store> Service<S> {
    /// The remote validators whose criteria match an operation of `ops` (entries of
    /// non-propagated kinds are never offered).
    pub(crate) fn validator_asks(&self, ops: &[Op]) -> Asks {
        let mut asks = Vec::new();
        for (conn, session) in &self.sessions.map {
            for (vid, (_, criteria)) in &session.validators {
                let matching: Vec<WireOp<'_>> = ops
                    .iter()
                    .filter(|op| {
                        let e = op.entry.as_ref().or(op.before.as_ref());
                        e.is_some_and(|e| !self.config.is_silent(&e.kind))
                            && (op.entry.as_ref().is_some_and(|e| criteria.matches(e))
                                || op.before.as_ref().is_some_and(|e| criteria.matches(e)))
                    })
                    .map(WireOp::with_before)
                    .collect();
                if !matching.is_empty() {
                    asks.push((*conn, vid.clone(), wire::raw(&matching)));
                }
            }
        }
        asks
    }

    /// Holds a write until every asked validator decided (or the timeout): `validate`
    /// messages go out and the request waits. `reasons` are the local listeners' rejections
    /// so far: the validators are asked all the same, so that the caller gets every reason.
    pub(crate) fn hold_for_validators(
        &mut self,
        write: Write,
        asks: Asks,
        reasons: Vec<Reason>,
        now: Millis,
    ) -> Result<Reply, ApiError> {
        if self.waiters.len() >= self.limits.max_waiters {
            if reasons.is_empty() {
                self.listeners_discard();
            }
            return Err(ApiError::capacity(format!(
                "too many requests held (limit {}); retry later",
                self.limits.max_waiters
            )));
        }
        let deadline = now.saturating_add(self.config.stored.validator_timeout_ms);
        // Indexed under no name: only its own verdicts wake it (`wake_id`).
        let waiter = self
            .waiters
            .add(WaitKind::Tx, Some(Vec::new()), write.principal.clone());
        let tx = waiter;
        let mut awaiting = BTreeSet::new();
        for (conn, vid, matching) in asks {
            let msg = ServerMsg::Validate(wire::Ask {
                tx,
                validator: Cow::Borrowed(&vid),
                ops: &matching,
                deadline,
            });
            self.sessions.send(conn, &msg);
            awaiting.insert((conn, vid));
        }
        self.pending_tx.insert(
            tx,
            PendingTx {
                write,
                awaiting,
                reasons,
            },
        );
        Ok(Reply::Wait { waiter, deadline })
    }

    /// A validator's verdict.
    pub(crate) fn decide(
        &mut self,
        conn: ConnId,
        tx: u64,
        validator: &str,
        accept: bool,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let not_awaited = || {
            ApiError::new(
                409,
                "not_awaited",
                format!("transaction {tx} awaits no verdict from validator {validator:?} (finished, timed out or never asked)"),
            )
        };
        let p = self.pending_tx.get_mut(&tx).ok_or_else(not_awaited)?;
        if !p.awaiting.remove(&(conn, validator.to_string())) {
            return Err(not_awaited());
        }
        if !accept {
            let reason = reason.unwrap_or_else(|| "rejected".into());
            p.reasons.push(Reason {
                op: None,
                id: None,
                listener: Some(format!("validator:{validator}")),
                reason,
            });
        }
        self.wake_if_decided(tx);
        Ok(())
    }

    fn wake_if_decided(&mut self, tx: u64) {
        if self
            .pending_tx
            .get(&tx)
            .is_some_and(|p| p.awaiting.is_empty())
            && self.waiters.wake_id(tx)
        {
            self.woken.push(tx);
        }
    }

    /// Every validator of a closed connection counts as a rejection.
    pub(crate) fn validators_gone(&mut self, conn: ConnId) {
        let names: Vec<(u64, String)> = self
            .pending_tx
            .iter()
            .flat_map(|(tx, p)| {
                p.awaiting
                    .iter()
                    .filter(|(c, _)| *c == conn)
                    .map(|(_, v)| (*tx, v.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (tx, v) in names {
            self.reject_awaited(tx, conn, &v, "disconnected before deciding");
        }
    }

    /// One validator of a connection is gone (unregistered).
    pub(crate) fn validator_gone(&mut self, conn: ConnId, validator: &str, why: &str) {
        let txs: Vec<u64> = self
            .pending_tx
            .iter()
            .filter(|(_, p)| p.awaiting.contains(&(conn, validator.to_string())))
            .map(|(tx, _)| *tx)
            .collect();
        for tx in txs {
            self.reject_awaited(tx, conn, validator, why);
        }
    }

    fn reject_awaited(&mut self, tx: u64, conn: ConnId, validator: &str, why: &str) {
        if let Some(p) = self.pending_tx.get_mut(&tx) {
            if p.awaiting.remove(&(conn, validator.to_string())) {
                p.reasons.push(Reason {
                    op: None,
                    id: None,
                    listener: Some(format!("validator:{validator}")),
                    reason: format!("validator {validator:?} {why}"),
                });
            }
        }
        self.wake_if_decided(tx);
    }

    /// Whether a waiter is a held transaction.
    pub(crate) fn is_pending_tx(&self, waiter: WaiterId) -> bool {
        self.pending_tx.contains_key(&waiter)
    }

    /// Forgets a held transaction whose client went away.
    pub(crate) fn drop_pending_tx(&mut self, waiter: WaiterId) {
        if self.pending_tx.remove(&waiter).is_some() {
            self.listeners_discard();
        }
    }

    /// Finishes a held transaction (all decided, or the deadline passed): a rejection or a
    /// missing verdict is a 422; an entry changed meanwhile is a 409; else it commits.
    pub(crate) fn finish_pending_tx(
        &mut self,
        waiter: WaiterId,
        now: Millis,
    ) -> Result<HttpResponse, ApiError> {
        let mut p = self
            .pending_tx
            .remove(&waiter)
            .expect("checked by is_pending_tx");
        for (_, v) in &p.awaiting {
            p.reasons.push(Reason {
                op: None,
                id: None,
                listener: Some(format!("validator:{v}")),
                reason: format!(
                    "validator {v:?} gave no verdict within {} ms",
                    self.config.stored.validator_timeout_ms
                ),
            });
        }
        if !p.reasons.is_empty() {
            self.listeners_discard();
            return Err(ApiError::refused(422, "rejected", p.reasons));
        }
        let w = p.write;
        let changed: Vec<Reason> = w
            .ops
            .iter()
            .filter(|op| self.registry.get(&op.id).map(history_entry) != op.before)
            .map(|op| Reason {
                op: w.index_of(&op.id),
                id: Some(op.id.clone()),
                listener: None,
                reason: format!("{:?} changed while validators were deciding", op.id),
            })
            .collect();
        if !changed.is_empty() {
            self.listeners_discard();
            return Err(ApiError::new(
                409,
                "conflict",
                "conflict, nothing was written: entries changed while validators were deciding",
            )
            .with_reasons(changed));
        }
        if let Err(e) = self.check_capacity(&w.ops) {
            self.listeners_discard();
            return Err(e);
        }
        // The state is as the validators saw it; the local listeners look again all the same.
        let index_of = |id: &str| w.index_of(id);
        let reasons = self.run_listeners(&w.ops, &index_of);
        if !reasons.is_empty() {
            return Err(ApiError::refused(422, "rejected", reasons));
        }
        self.commit_write(w, true, now)
    }
}
