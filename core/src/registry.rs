//! The in-memory state of one registry: entries with exact TTL expiry and pending change
//! requests. Every mutation is planned as a [`Commit`] from the current state (read-only), then
//! applied with [`Registry::apply`] once the store accepted it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::duration::Millis;
use crate::entry::{Entry, PendingRequest, RequestRecord, RequestStatus};
use crate::history::{Changeset, ChangesetError, Op, OpKind, State, Version};
use crate::requests::{record_of, RequestLog, VerdictError};
use crate::store::{Commit, RegistryMeta, Snapshot};
use crate::write::checks::entry_bytes;

/// An entry as history records it: content and version, without the runtime expiry instant.
pub fn history_entry(e: &Entry) -> Entry {
    Entry {
        expires_at: None,
        ..e.clone()
    }
}

/// An entry as it lives in the registry: stamped with the version that wrote it and, if it
/// has a TTL, an expiry instant counted from `now`.
fn live_entry(e: &Entry, version: u64, now: Millis) -> Entry {
    Entry {
        version,
        expires_at: e.ttl_ms.map(|t| now.saturating_add(t)),
        ..e.clone()
    }
}

/// What a pending request counts for in the registry's bound.
fn request_bytes(r: &PendingRequest) -> usize {
    r.name.len() + crate::write::checks::json_len(&r.value)
}

/// The state of one registry.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    meta: RegistryMeta,
    entries: BTreeMap<String, Entry>,
    /// (expires_at, id) of every entry with a TTL.
    entry_expiry: BTreeSet<(Millis, String)>,
    /// Bytes of the entries as the state bound counts them ([`entry_bytes`]), kept as entries
    /// come and go.
    entry_bytes: usize,
    requests: BTreeMap<String, PendingRequest>,
    /// (expires_at, name) of every pending request.
    request_expiry: BTreeSet<(Millis, String)>,
    /// Bytes of the pending requests (names and values as JSON).
    request_bytes: usize,
    /// Delivered and finished change requests.
    log: RequestLog,
}

impl Registry {
    /// Rebuilds the state from a persisted snapshot (no versions are created).
    ///
    /// The maps are built in bulk (sorted once, then filled without a search per entry): the
    /// host's store hands the entries over in id order, and this runs on a cold start. Of two
    /// entries with the same id the later one is kept, as inserting them in turn would.
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let entries: BTreeMap<String, Entry> = snapshot
            .entries
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        let entry_bytes = entries.values().map(entry_bytes).sum();
        let entry_expiry = entries
            .values()
            .filter_map(|e| Some((e.expires_at?, e.id.clone())))
            .collect();
        let mut reg = Registry {
            meta: snapshot.meta,
            log: RequestLog::from_records(snapshot.records),
            entries,
            entry_expiry,
            entry_bytes,
            ..Registry::default()
        };
        for r in snapshot.requests {
            reg.insert_request(r);
        }
        reg
    }

    /// Registry-wide counters.
    pub fn meta(&self) -> RegistryMeta {
        self.meta
    }

    /// The current version.
    pub fn head(&self) -> u64 {
        self.meta.head
    }

    /// One entry by id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// All entries in id order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The entries with ids above `cursor` (all when there is none), in id order.
    pub fn entries_after<'a>(&'a self, cursor: Option<&str>) -> impl Iterator<Item = &'a Entry> {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = cursor.map_or(Unbounded, Excluded);
        self.entries
            .range::<str, _>((from, Unbounded))
            .map(|(_, e)| e)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the registry has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of all entries as the state bound counts them (`Limits::max_state_bytes`).
    pub fn state_bytes(&self) -> usize {
        self.entry_bytes
    }

    /// Number of pending change requests.
    pub fn pending_requests(&self) -> usize {
        self.requests.len()
    }

    /// How many change requests have each status: `pending` (queued) and the delivered and
    /// finished ones the request log keeps.
    pub fn request_status_counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut counts = self.log.status_counts();
        if !self.requests.is_empty() {
            counts.insert("pending", self.requests.len());
        }
        counts
    }

    /// Bytes of the pending change requests (names and values as JSON).
    pub fn pending_request_bytes(&self) -> usize {
        self.request_bytes
    }

    /// The pending change request for a name, if any.
    pub fn pending_request(&self, name: &str) -> Option<&PendingRequest> {
        self.requests.get(name)
    }

    /// A change request by id, whatever its status (`None`: never issued, or forgotten).
    pub fn request(&self, id: u64) -> Option<RequestRecord> {
        if let Some(r) = self.log.get(id) {
            return Some(r.clone());
        }
        self.pending_by_id(id)
            .map(|r| record_of(r, RequestStatus::Pending, None, r.expires_at))
    }

    /// The pending request with this id (a scan: at most `max_pending_requests`).
    fn pending_by_id(&self, id: u64) -> Option<&PendingRequest> {
        self.requests.values().find(|r| r.id == id)
    }

    /// Plans a provider's verdict on a request (pending or delivered).
    pub fn plan_verdict(
        &self,
        id: u64,
        accept: bool,
        reason: Option<&str>,
    ) -> Result<(Commit, RequestRecord), VerdictError> {
        let mut commit = Commit {
            meta: self.meta,
            ..Commit::default()
        };
        if let Some(p) = self.pending_by_id(id) {
            let status = if accept {
                RequestStatus::Accepted
            } else {
                RequestStatus::Rejected
            };
            let record = record_of(p, status, reason, p.expires_at);
            commit.delete_requests.push(p.name.clone());
            commit.resolved.push(id);
            commit.put_records.push(record.clone());
            return Ok((commit, record));
        }
        let record = self.log.plan_verdict(id, accept, reason, &mut commit)?;
        Ok((commit, record))
    }

    /// Adds to `commit` the forgetting of the oldest finished request records.
    pub fn plan_prune_records(&self, commit: &mut Commit) {
        self.log.plan_prune(commit);
    }

    /// The earliest instant at which an entry or a change request expires.
    pub fn next_expiry(&self) -> Option<Millis> {
        let e = self.entry_expiry.first().map(|(t, _)| *t);
        let r = self.request_expiry.first().map(|(t, _)| *t);
        [e, r, self.log.next_expiry()].into_iter().flatten().min()
    }

    /// Whether any of `names` (all entries if `None`) changed, or any entry was deleted, after
    /// version `since`. A `since` ahead of the head (a registry reset) also counts as changed.
    pub fn changed_since(&self, names: Option<&[String]>, since: u64) -> bool {
        if since > self.meta.head || self.meta.last_delete > since {
            return true;
        }
        match names {
            None => self.meta.head > since,
            Some(names) => names
                .iter()
                .any(|n| self.entries.get(n).is_some_and(|e| e.version > since)),
        }
    }

    /// Like [`Registry::changed_since`] over every entry `visible` says a reader sees (a scan:
    /// used only for readers limited to some ids who name none). A delete since `since` counts
    /// as a change, as it does there.
    pub fn changed_since_where(&self, since: u64, visible: impl Fn(&str) -> bool) -> bool {
        if since > self.meta.head || self.meta.last_delete > since {
            return true;
        }
        self.meta.head > since
            && self
                .entries
                .values()
                .any(|e| e.version > since && visible(&e.id))
    }

    /// The current entries as history records them.
    pub fn content_state(&self) -> State {
        self.entries
            .iter()
            .map(|(id, e)| (id.clone(), history_entry(e)))
            .collect()
    }

    /// Checks that each operation fits the current state in turn (create of an absent id,
    /// update/delete of a present one, creates and updates carrying their entry) without
    /// copying any entry.
    pub fn check_changeset(&self, ops: &[Op]) -> Result<(), ChangesetError> {
        let mut exists: HashMap<&str, bool> = HashMap::new();
        for op in ops {
            let present = *exists
                .entry(op.id.as_str())
                .or_insert_with(|| self.entries.contains_key(&op.id));
            crate::history::changeset::check_fits(op, present)?;
            if op.op != OpKind::Delete {
                crate::history::changeset::after(op)?;
            }
            exists.insert(op.id.as_str(), op.op != OpKind::Delete);
        }
        Ok(())
    }

    fn version_commit(&self, now: Millis, actor: &str, history: Changeset) -> Commit {
        let mut commit = Commit {
            meta: self.meta,
            ..Commit::default()
        };
        if history.is_empty() {
            return commit;
        }
        commit.meta.head += 1;
        if history.iter().any(|op| op.op == OpKind::Delete) {
            commit.meta.last_delete = commit.meta.head;
        }
        commit.version = Some(Version {
            version: commit.meta.head,
            parent: self.meta.head,
            timestamp: now,
            actor: actor.to_string(),
            changeset: history,
        });
        commit
    }

    /// Plans a write (creates/updates carry the new entry; versions and expiry are stamped
    /// here) as one version, plus `refresh`: unchanged entries whose expiry is renewed from
    /// `now` (no version, nobody woken). The caller has checked that the changeset fits the
    /// state ([`Registry::check_changeset`]). An id may appear more than once: each
    /// operation's pre-image is the entry as the operations before it left it. Consumers are
    /// woken for the ids whose existence, kind, metadata or value changed (a new TTL duration
    /// alone is a version that wakes nobody).
    pub fn plan_write(&self, now: Millis, actor: &str, ops: Vec<Op>, refresh: &[String]) -> Commit {
        let version = self.meta.head + 1;
        let mut history = Vec::with_capacity(ops.len());
        let mut changed = Vec::with_capacity(ops.len());
        // Entries as earlier operations of this changeset left them (only for repeated ids).
        let mut touched: HashMap<String, Option<Entry>> = HashMap::new();
        let repeats = ops.len() > 1;
        for op in ops {
            let before = match touched.get(&op.id) {
                Some(e) => e.clone(),
                None => self.entries.get(&op.id).map(history_entry),
            };
            let after = match (op.entry, op.op) {
                (Some(after), OpKind::Create | OpKind::Update) => Some(Entry {
                    version,
                    expires_at: None,
                    ..after
                }),
                _ => None,
            };
            let visible = match (&before, &after) {
                (Some(b), Some(a)) => !a.same_content(&b.kind, &b.meta, &b.data),
                _ => true,
            };
            let recorded = match (before, after) {
                (Some(b), Some(a)) => Op::update(b, a),
                (None, Some(a)) => Op::create(a),
                (Some(b), None) => Op::delete(b),
                (None, None) => continue,
            };
            if repeats {
                touched.insert(op.id.clone(), recorded.entry.clone());
            }
            history.push(recorded);
            if visible && !changed.contains(&op.id) {
                changed.push(op.id);
            }
        }
        let mut commit = self.version_commit(now, actor, history);
        // The net effect per id, in first-touch order.
        let mut seen = std::collections::HashSet::new();
        if let Some(v) = &commit.version {
            for op in v.changeset.iter().rev() {
                if !seen.insert(op.id.as_str()) {
                    continue;
                }
                match &op.entry {
                    Some(a) => commit.put_entries.push(live_entry(a, version, now)),
                    None => commit.delete_entries.push(op.id.clone()),
                }
            }
        }
        for id in refresh {
            if let Some(e) = self
                .entries
                .get(id)
                .filter(|e| e.ttl_ms.is_some() && !seen.contains(id.as_str()))
            {
                commit.put_entries.push(live_entry(e, e.version, now));
            }
        }
        commit.changed = changed;
        commit
    }

    /// Adds to `commit` the implicit acceptance of delivered requests for `name` that asked
    /// for exactly `value` (a provider publishing the requested value accepts it).
    pub fn plan_implicit_accept(&self, name: &str, value: &Value, commit: &mut Commit) {
        self.log.plan_implicit_accept(name, value, commit);
    }

    /// Plans the expiry of everything due at `now`: the entries to delete (their pre-images)
    /// and, in `extra`, the change requests that expire with them (no version). `None` when
    /// nothing is due.
    pub fn plan_expiry(&self, now: Millis) -> Option<(Vec<Op>, Commit)> {
        let mut ops = Vec::new();
        for (t, id) in &self.entry_expiry {
            if *t > now {
                break;
            }
            ops.push(Op::delete(history_entry(&self.entries[id])));
        }
        let mut extra = Commit {
            meta: self.meta,
            ..Commit::default()
        };
        for (t, name) in &self.request_expiry {
            if *t > now {
                break;
            }
            let r = &self.requests[name];
            extra.delete_requests.push(name.clone());
            extra.resolved.push(r.id);
            extra.put_records.push(record_of(
                r,
                RequestStatus::Expired,
                Some("no provider took it in time"),
                r.expires_at,
            ));
        }
        self.log.plan_expiry(now, &mut extra);
        (!ops.is_empty() || !extra.is_empty()).then_some((ops, extra))
    }

    /// Plans consumer change requests: the latest request per name wins.
    pub fn plan_request_changes(
        &self,
        now: Millis,
        ttl_ms: Millis,
        requests: Vec<(String, Value)>,
    ) -> Commit {
        let mut commit = Commit {
            meta: self.meta,
            ..Commit::default()
        };
        let mut batch: HashMap<String, usize> = HashMap::new();
        for (name, value) in requests {
            let id = commit.meta.next_request_id + 1;
            commit.meta.next_request_id = id;
            // The latest request per register wins: the one it replaces is superseded.
            let replaced = match batch.get(&name) {
                Some(i) => Some(&commit.put_requests[*i]),
                None => self.requests.get(&name),
            };
            if let Some(old) = replaced {
                let record = record_of(old, RequestStatus::Superseded, None, old.expires_at);
                commit.resolved.push(old.id);
                commit.put_records.push(record);
            }
            batch.insert(name.clone(), commit.put_requests.len());
            commit.requested.push(name.clone());
            commit.put_requests.push(PendingRequest {
                name,
                value,
                id,
                created_at: now,
                expires_at: now.saturating_add(ttl_ms),
            });
        }
        commit
    }

    /// How many new pending requests `names` would add (replacing one does not add).
    pub fn new_request_count<'a>(&self, names: impl Iterator<Item = &'a String>) -> usize {
        names.filter(|n| !self.requests.contains_key(*n)).count()
    }

    /// Plans taking (consuming) the pending requests for `names` (all if `None`) that are
    /// `in_scope` (the taker's access scope): they become delivered, awaiting a verdict until
    /// `now + ttl_ms`.
    pub fn plan_take_requests(
        &self,
        names: Option<&[String]>,
        in_scope: impl Fn(&str) -> bool,
        now: Millis,
        ttl_ms: Millis,
    ) -> (Commit, Vec<PendingRequest>) {
        let taken: Vec<PendingRequest> = match names {
            None => self
                .requests
                .values()
                .filter(|r| in_scope(&r.name))
                .cloned()
                .collect(),
            Some(names) => {
                let mut seen = BTreeSet::new();
                names
                    .iter()
                    .filter(|n| seen.insert(n.as_str()) && in_scope(n))
                    .filter_map(|n| self.requests.get(n).cloned())
                    .collect()
            }
        };
        let commit = Commit {
            meta: self.meta,
            delete_requests: taken.iter().map(|r| r.name.clone()).collect(),
            put_records: taken
                .iter()
                .map(|r| {
                    record_of(
                        r,
                        RequestStatus::Delivered,
                        None,
                        now.saturating_add(ttl_ms),
                    )
                })
                .collect(),
            ..Commit::default()
        };
        (commit, taken)
    }

    /// Applies a commit the store has accepted (taking its entries and requests).
    pub fn apply(&mut self, commit: Commit) {
        self.meta = commit.meta;
        self.log.apply(&commit);
        for id in &commit.delete_entries {
            self.remove_entry(id);
        }
        for e in commit.put_entries {
            self.remove_entry(&e.id);
            self.insert_entry(e);
        }
        for name in &commit.delete_requests {
            self.remove_request(name);
        }
        for r in commit.put_requests {
            self.remove_request(&r.name);
            self.insert_request(r);
        }
    }

    fn insert_entry(&mut self, e: Entry) {
        if let Some(t) = e.expires_at {
            self.entry_expiry.insert((t, e.id.clone()));
        }
        self.entry_bytes += entry_bytes(&e);
        if let Some(old) = self.entries.insert(e.id.clone(), e) {
            // Callers remove first; counted back all the same so the total stays exact.
            self.entry_bytes -= entry_bytes(&old);
        }
    }

    fn remove_entry(&mut self, id: &str) {
        if let Some(old) = self.entries.remove(id) {
            self.entry_bytes -= entry_bytes(&old);
            if let Some(t) = old.expires_at {
                self.entry_expiry.remove(&(t, old.id));
            }
        }
    }

    fn remove_request(&mut self, name: &str) {
        if let Some(old) = self.requests.remove(name) {
            self.request_bytes -= request_bytes(&old);
            self.request_expiry.remove(&(old.expires_at, old.name));
        }
    }

    fn insert_request(&mut self, r: PendingRequest) {
        self.request_bytes += request_bytes(&r);
        self.request_expiry.insert((r.expires_at, r.name.clone()));
        self.requests.insert(r.name.clone(), r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, data: i64, expires_at: Option<Millis>) -> Entry {
        Entry {
            id: id.into(),
            kind: "register".into(),
            meta: Default::default(),
            data: data.into(),
            ttl_ms: expires_at.map(|_| 1_000),
            expires_at,
            version: 1,
        }
    }

    /// The bulk build gives what applying the entries one by one gives, whatever their order,
    /// and keeps the later of two entries with the same id.
    #[test]
    fn from_snapshot_matches_entries_applied_one_by_one() {
        let entries = vec![
            entry("b", 1, Some(50)),
            entry("a", 22, None),
            entry("c", 333, Some(10)),
            entry("b", 4444, Some(70)),
        ];
        let loaded = Registry::from_snapshot(Snapshot {
            entries: entries.clone(),
            ..Default::default()
        });
        let mut applied = Registry::default();
        for e in entries {
            applied.apply(Commit {
                put_entries: vec![e],
                ..Default::default()
            });
        }
        let ids = |r: &Registry| {
            r.entries()
                .map(|e| (e.id.clone(), e.data.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&loaded), ids(&applied));
        assert_eq!(loaded.get("b").unwrap().data, 4444);
        assert_eq!(loaded.entry_expiry, applied.entry_expiry);
        assert_eq!(
            loaded.entry_expiry.iter().collect::<Vec<_>>(),
            [&(10, "c".to_string()), &(70, "b".to_string())]
        );
        assert_eq!(loaded.state_bytes(), applied.state_bytes());
        assert_eq!(
            loaded.state_bytes(),
            (1 + 2 + 2) + (1 + 4 + 2) + (1 + 3 + 2)
        );
    }
}
