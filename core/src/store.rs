//! Storage comes in through the [`Store`] trait: the core hands the host one [`Commit`] per
//! state change and the host writes it atomically (one SQLite transaction in the worker). The
//! in-memory state is only changed after the store accepted the commit, so a failed write leaves
//! both as they were.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::entry::{Entry, PendingRequest, RequestRecord};
use crate::history::{Checkpoint, Version};
use crate::stream::{ConnId, SessionState};

/// Registry-wide counters, persisted with every commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryMeta {
    /// The current registry version (0 = nothing ever changed).
    pub head: u64,
    /// The last version that deleted an entry (lets `since=` see deletions).
    pub last_delete: u64,
    /// The id the next change request gets.
    pub next_request_id: u64,
    /// The oldest readable version: older ones are folded into the checkpoint at `base`.
    #[serde(default)]
    pub base: u64,
}

/// Everything one state change writes. Applied all or nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    /// The counters after the change.
    pub meta: RegistryMeta,
    /// Entries created or updated (including TTL-only refreshes).
    pub put_entries: Vec<Entry>,
    /// Ids of entries deleted.
    pub delete_entries: Vec<String>,
    /// Change requests added or replaced.
    pub put_requests: Vec<PendingRequest>,
    /// Names whose pending change request is removed (taken or expired).
    pub delete_requests: Vec<String>,
    /// Change requests that left the pending state or changed status (delivered, finished).
    pub put_records: Vec<RequestRecord>,
    /// Ids of finished request records forgotten (only the newest are kept).
    pub delete_records: Vec<u64>,
    /// Ids of requests that reached a final status (wakes whoever awaits them); not persisted.
    pub resolved: Vec<u64>,
    /// Names whose visible state changed (wakes consumers); not persisted.
    pub changed: Vec<String>,
    /// Names that got a new change request (wakes providers); not persisted.
    pub requested: Vec<String>,
    /// The version this commit makes, if it changes any entry.
    pub version: Option<Version>,
    /// A full state to keep at a version (every checkpoint interval, and the base on a fold).
    pub checkpoint: Option<Checkpoint>,
    /// Retention: forget versions and checkpoints older than `meta.base` (which has a checkpoint).
    pub fold: bool,
}

impl Commit {
    /// Whether the commit writes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.put_entries.is_empty()
            && self.delete_entries.is_empty()
            && self.version.is_none()
            && self.put_requests.is_empty()
            && self.delete_requests.is_empty()
            && self.put_records.is_empty()
            && self.delete_records.is_empty()
    }
}

/// The persisted state of a registry, as loaded on start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Counters.
    pub meta: RegistryMeta,
    /// All entries.
    pub entries: Vec<Entry>,
    /// All pending change requests.
    pub requests: Vec<PendingRequest>,
    /// Delivered and recently finished change requests.
    pub records: Vec<RequestRecord>,
}

/// A storage failure reported by the host.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("storage error: {0}")]
pub struct StoreError(pub String);

/// Read access to stored history.
pub trait HistoryStore {
    /// Versions `from ..= to` that exist, ascending.
    fn versions(&self, from: u64, to: u64) -> Result<Vec<Version>, StoreError>;
    /// Up to `limit` versions at or below `at_or_below`, newest first.
    fn versions_desc(&self, at_or_below: u64, limit: usize) -> Result<Vec<Version>, StoreError>;
    /// The checkpoint with the greatest version ≤ `v`.
    fn checkpoint_at_or_below(&self, v: u64) -> Result<Option<Checkpoint>, StoreError>;
    /// The checkpoint with the smallest version ≥ `v`.
    fn checkpoint_at_or_above(&self, v: u64) -> Result<Option<Checkpoint>, StoreError>;
    /// The version of the greatest checkpoint ≤ `v`, without loading it.
    fn checkpoint_version_at_or_below(&self, v: u64) -> Result<Option<u64>, StoreError>;
}

/// Durable storage of one registry: its current state, pending requests and history.
pub trait Store: HistoryStore {
    /// Reads the whole persisted state.
    fn load(&self) -> Result<Snapshot, StoreError>;
    /// Writes one commit atomically (state, version, checkpoint, fold): either all of it is
    /// durable or none of it.
    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError>;
    /// Saves the subscriptions of a stream connection (`None`: forgets them). Written on its
    /// own, outside commits: a session is not registry state.
    fn save_session(
        &mut self,
        conn: ConnId,
        state: Option<&SessionState>,
    ) -> Result<(), StoreError>;
    /// Every saved session.
    fn load_sessions(&self) -> Result<Vec<(ConnId, SessionState)>, StoreError>;
}

/// An in-memory [`Store`] for the native harness and tests. Cloning it is how a test keeps the
/// "disk" across a simulated restart.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    meta: RegistryMeta,
    entries: BTreeMap<String, Entry>,
    requests: BTreeMap<String, PendingRequest>,
    records: BTreeMap<u64, RequestRecord>,
    versions: BTreeMap<u64, Version>,
    checkpoints: BTreeMap<u64, Checkpoint>,
    sessions: BTreeMap<ConnId, SessionState>,
    /// When set, the next commit fails (fault injection).
    pub fail_next_commit: bool,
    /// While set, every write and every load fails (a storage outage, fault injection).
    pub broken: bool,
    /// Number of successful commits (for tests).
    pub commits: u64,
}

impl Store for MemStore {
    fn load(&self) -> Result<Snapshot, StoreError> {
        if self.broken {
            return Err(StoreError("injected outage".into()));
        }
        Ok(Snapshot {
            meta: self.meta,
            entries: self.entries.values().cloned().collect(),
            requests: self.requests.values().cloned().collect(),
            records: self.records.values().cloned().collect(),
        })
    }

    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        if std::mem::take(&mut self.fail_next_commit) || self.broken {
            return Err(StoreError("injected failure".into()));
        }
        self.meta = commit.meta;
        for id in &commit.delete_entries {
            self.entries.remove(id);
        }
        for e in &commit.put_entries {
            self.entries.insert(e.id.clone(), e.clone());
        }
        for name in &commit.delete_requests {
            self.requests.remove(name);
        }
        for r in &commit.put_requests {
            self.requests.insert(r.name.clone(), r.clone());
        }
        for id in &commit.delete_records {
            self.records.remove(id);
        }
        for r in &commit.put_records {
            self.records.insert(r.id, r.clone());
        }
        if let Some(v) = &commit.version {
            self.versions.insert(v.version, v.clone());
        }
        if let Some(c) = &commit.checkpoint {
            self.checkpoints.insert(c.version, c.clone());
        }
        if commit.fold {
            let base = commit.meta.base;
            self.versions = self.versions.split_off(&(base + 1));
            self.checkpoints = self.checkpoints.split_off(&base);
        }
        self.commits += 1;
        Ok(())
    }

    fn save_session(
        &mut self,
        conn: ConnId,
        state: Option<&SessionState>,
    ) -> Result<(), StoreError> {
        if self.broken {
            return Err(StoreError("injected outage".into()));
        }
        match state {
            Some(s) => self.sessions.insert(conn, s.clone()),
            None => self.sessions.remove(&conn),
        };
        Ok(())
    }

    fn load_sessions(&self) -> Result<Vec<(ConnId, SessionState)>, StoreError> {
        if self.broken {
            return Err(StoreError("injected outage".into()));
        }
        Ok(self.sessions.iter().map(|(c, s)| (*c, s.clone())).collect())
    }
}

impl HistoryStore for MemStore {
    fn versions(&self, from: u64, to: u64) -> Result<Vec<Version>, StoreError> {
        if from > to {
            return Ok(Vec::new());
        }
        Ok(self
            .versions
            .range(from..=to)
            .map(|(_, v)| v.clone())
            .collect())
    }

    fn versions_desc(&self, at_or_below: u64, limit: usize) -> Result<Vec<Version>, StoreError> {
        Ok(self
            .versions
            .range(..=at_or_below)
            .rev()
            .take(limit)
            .map(|(_, v)| v.clone())
            .collect())
    }

    fn checkpoint_at_or_below(&self, v: u64) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self
            .checkpoints
            .range(..=v)
            .next_back()
            .map(|(_, c)| c.clone()))
    }

    fn checkpoint_at_or_above(&self, v: u64) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.checkpoints.range(v..).next().map(|(_, c)| c.clone()))
    }

    fn checkpoint_version_at_or_below(&self, v: u64) -> Result<Option<u64>, StoreError> {
        Ok(self.checkpoints.range(..=v).next_back().map(|(k, _)| *k))
    }
}
