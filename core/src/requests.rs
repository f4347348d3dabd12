//! The life of change requests beyond the pending queue: delivered requests awaiting a verdict
//! (with their expiry) and the newest finished outcomes, so that a consumer can await or look
//! up the status of a request by id (SPEC §4.2).

use std::collections::{BTreeMap, BTreeSet};

use crate::duration::Millis;
use crate::entry::{PendingRequest, RequestRecord, RequestStatus};
use crate::store::Commit;

/// How many finished outcomes a registry remembers (the oldest are forgotten first).
pub const MAX_FINISHED: usize = 1_000;

/// Delivered and finished change requests of one registry.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    records: BTreeMap<u64, RequestRecord>,
    /// (expires_at, id) of every delivered request.
    awaiting: BTreeSet<(Millis, u64)>,
    finished: usize,
}

/// Why a verdict was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerdictError {
    /// No such request (never issued, or forgotten).
    Unknown(u64),
    /// The request already has a final status.
    Finished(u64, RequestStatus),
}

impl std::fmt::Display for VerdictError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerdictError::Unknown(id) => write!(f, "no change request {id}"),
            VerdictError::Finished(id, s) => {
                write!(f, "change request {id} is already {}", status_name(*s))
            }
        }
    }
}

/// The wire name of a status.
pub fn status_name(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::Pending => "pending",
        RequestStatus::Delivered => "delivered",
        RequestStatus::Accepted => "accepted",
        RequestStatus::Rejected => "rejected",
        RequestStatus::Superseded => "superseded",
        RequestStatus::Expired => "expired",
    }
}

/// A record of `r` with a new status.
pub fn record_of(
    r: &PendingRequest,
    status: RequestStatus,
    reason: Option<&str>,
    expires_at: Millis,
) -> RequestRecord {
    RequestRecord {
        id: r.id,
        name: r.name.clone(),
        value: r.value.clone(),
        status,
        reason: reason.map(str::to_string),
        expires_at,
    }
}

impl RequestLog {
    /// Rebuilds the log from stored records.
    pub fn from_records(records: Vec<RequestRecord>) -> Self {
        let mut log = RequestLog::default();
        for r in records {
            log.insert(r);
        }
        log
    }

    /// One record by id.
    pub fn get(&self, id: u64) -> Option<&RequestRecord> {
        self.records.get(&id)
    }

    /// How many records have each status (delivered and the finished ones kept), in status
    /// order; statuses with no record are left out.
    pub fn status_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for r in self.records.values() {
            *counts.entry(status_name(r.status)).or_insert(0) += 1;
        }
        counts
    }

    /// The earliest expiry of a delivered request.
    pub fn next_expiry(&self) -> Option<Millis> {
        self.awaiting.first().map(|(t, _)| *t)
    }

    /// Delivered requests due at `now` expire for lack of a verdict.
    pub fn plan_expiry(&self, now: Millis, commit: &mut Commit) {
        for (t, id) in &self.awaiting {
            if *t > now {
                break;
            }
            let mut r = self.records[id].clone();
            r.status = RequestStatus::Expired;
            r.reason = Some("no verdict from the provider in time".into());
            commit.resolved.push(r.id);
            commit.put_records.push(r);
        }
    }

    /// Delivered requests for `name` whose value is `value`: a provider publishing exactly the
    /// requested value accepts them (reg providers never send verdicts).
    pub fn plan_implicit_accept(&self, name: &str, value: &serde_json::Value, commit: &mut Commit) {
        for (_, id) in &self.awaiting {
            let r = &self.records[id];
            if r.name == name && &r.value == value {
                let mut r = r.clone();
                r.status = RequestStatus::Accepted;
                commit.resolved.push(r.id);
                commit.put_records.push(r);
            }
        }
    }

    /// A verdict on a delivered request (a pending one is looked up by the caller).
    pub fn plan_verdict(
        &self,
        id: u64,
        accept: bool,
        reason: Option<&str>,
        commit: &mut Commit,
    ) -> Result<RequestRecord, VerdictError> {
        let r = self.records.get(&id).ok_or(VerdictError::Unknown(id))?;
        if r.status.is_final() {
            return Err(VerdictError::Finished(id, r.status));
        }
        let mut r = r.clone();
        r.status = if accept {
            RequestStatus::Accepted
        } else {
            RequestStatus::Rejected
        };
        r.reason = reason.map(str::to_string);
        commit.resolved.push(id);
        commit.put_records.push(r.clone());
        Ok(r)
    }

    /// Forgets the oldest finished records so that at most [`MAX_FINISHED`] remain after
    /// `commit` is applied.
    pub fn plan_prune(&self, commit: &mut Commit) {
        let new_finished = commit
            .put_records
            .iter()
            .filter(|r| {
                r.status.is_final() && self.records.get(&r.id).is_none_or(|o| !o.status.is_final())
            })
            .count();
        let excess = (self.finished + new_finished).saturating_sub(MAX_FINISHED);
        if excess == 0 {
            return;
        }
        let touched: BTreeSet<u64> = commit.put_records.iter().map(|r| r.id).collect();
        commit.delete_records.extend(
            self.records
                .values()
                .filter(|r| r.status.is_final() && !touched.contains(&r.id))
                .take(excess)
                .map(|r| r.id),
        );
    }

    /// Applies the records of a commit the store accepted.
    pub fn apply(&mut self, commit: &Commit) {
        for id in &commit.delete_records {
            self.remove(*id);
        }
        for r in &commit.put_records {
            self.remove(r.id);
            self.insert(r.clone());
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(old) = self.records.remove(&id) {
            if old.status.is_final() {
                self.finished -= 1;
            } else {
                self.awaiting.remove(&(old.expires_at, id));
            }
        }
    }

    fn insert(&mut self, r: RequestRecord) {
        if r.status.is_final() {
            self.finished += 1;
        } else {
            self.awaiting.insert((r.expires_at, r.id));
        }
        self.records.insert(r.id, r);
    }
}
