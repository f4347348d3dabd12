//! Sessions of stream clients (WebSocket, SSE) on a [`Service`]: their messages, the initial
//! snapshot or lossless backlog of a watch, and the fan-out of every version, request and
//! outcome to the sessions concerned. See `docs/protocol.md`, "Streams".

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::api::ApiError;
use crate::auth::{Action, Principal};
use crate::duration::Millis;
use crate::effects::{Effects, Step};
use crate::entry::RequestRecord;
use crate::history::Version;
use crate::service::Service;
use crate::store::{Commit, Store};
use crate::stream::message::{decode, ClientMsg};
use crate::stream::watch::{Watch, WatchSpec};
use crate::stream::wire::{self, Reply, ServerMsg};

/// What a message produced, for its `ok` reply.
#[derive(Default)]
struct Done {
    version: Option<u64>,
    request: Option<(u64, Option<&'static str>)>,
    record: Option<RequestRecord>,
}
use crate::stream::{ConnId, Outgoing, Session, SessionState};

/// Versions read from the store at a time while replaying a backlog.
const BACKLOG_CHUNK: u64 = 256;

impl<S: Store> Service<S> {
    /// Opens a session for a new WebSocket connection; its subscriptions are saved in the
    /// store as they change, so that it survives the host's eviction or hibernation
    /// ([`Service::restore_sessions`]).
    /// `principal` is who opened it (from the request's credentials): every message is
    /// checked against it, and its watches see only what it may read.
    pub fn open_session(
        &mut self,
        conn: ConnId,
        principal: &Principal,
    ) -> Step<Result<(), ApiError>> {
        let result = self.open_session_inner(conn, true, principal);
        self.step(result)
    }

    /// Opens a session; `durable`: its subscriptions are saved in the store (WebSockets; an
    /// SSE stream ends with the object that serves it, so its session is not saved).
    pub(crate) fn open_session_inner(
        &mut self,
        conn: ConnId,
        durable: bool,
        principal: &Principal,
    ) -> Result<(), ApiError> {
        if !self.sessions.map.contains_key(&conn) {
            self.check_connection_capacity()?;
        }
        if !self.sessions.map.contains_key(&conn)
            && self.sessions.map.len() >= self.limits.max_sessions
        {
            return Err(ApiError::capacity(format!(
                "too many stream connections (limit {}); retry later",
                self.limits.max_sessions
            )));
        }
        self.sessions.map.entry(conn).or_default().principal = principal.clone();
        if !durable {
            self.sessions.ephemeral.insert(conn);
        }
        Ok(())
    }

    /// After the host (re)loaded the service: restores the saved sessions of the connections
    /// still `open` (their watches continue from the current head: nothing changed while the
    /// object was away), forgets the saved sessions of connections that are gone, and asks
    /// the host to close open connections whose session cannot be restored.
    pub fn restore_sessions(&mut self, open: &[ConnId]) -> Step<()> {
        let mut unrestored: std::collections::BTreeSet<ConnId> = open.iter().copied().collect();
        // Unreadable sessions: their connections are closed below and their clients resume.
        if let Ok(saved) = self.store.load_sessions() {
            for (conn, state) in saved {
                if unrestored.remove(&conn) {
                    self.restore_session(conn, state);
                } else {
                    self.sessions.dirty.insert(conn);
                }
            }
        }
        let mut step = self.step(());
        step.effects.close.extend(unrestored);
        step
    }

    /// Writes the subscriptions of every session that changed (or was closed) to the store;
    /// returns the connections whose session could not be saved (the host closes them and
    /// their clients resume).
    pub(crate) fn save_dirty_sessions(&mut self) -> Vec<ConnId> {
        let mut failed = Vec::new();
        for conn in std::mem::take(&mut self.sessions.dirty) {
            if self.sessions.ephemeral.contains(&conn) {
                if !self.sessions.map.contains_key(&conn) {
                    self.sessions.ephemeral.remove(&conn);
                }
                continue;
            }
            let state = self.sessions.map.get(&conn).map(Session::state);
            if self.store.save_session(conn, state.as_ref()).is_err() && state.is_some() {
                failed.push(conn);
            }
        }
        for conn in &failed {
            self.drop_session(*conn);
            // Forget it in the store too once the store works again.
            self.sessions.dirty.insert(*conn);
        }
        failed
    }

    /// Restores one saved session: its watches continue from the current head, its provides
    /// and validators are active again. Parts that no longer compile are dropped.
    fn restore_session(&mut self, conn: ConnId, state: SessionState) {
        let mut session = Session::default();
        for (id, spec) in state.watches {
            if let Ok(w) = self.compile_watch(&spec) {
                session.watches.insert(id, (spec, w));
            }
        }
        for (id, criteria) in state.validators {
            if let Ok(c) = self.compile_criteria(&criteria) {
                session.validators.insert(id, (criteria, c));
            }
        }
        for name in &state.provides {
            self.sessions.add_provider(conn, name);
        }
        for id in &state.requested {
            self.sessions.requesters.insert(*id, conn);
        }
        session.provides = state.provides;
        session.requested = state.requested;
        session.principal = state.principal;
        self.sessions.map.insert(conn, session);
    }

    /// The name of the token that opened a session (`None` in open mode or when there is no
    /// such session), for the host's log.
    pub fn session_actor(&self, conn: ConnId) -> Option<&str> {
        self.sessions
            .map
            .get(&conn)
            .and_then(|s| s.principal.name())
    }

    /// Closes a session: its provides and watches end; transactions awaiting its validators'
    /// verdicts are rejected; its saved subscriptions are forgotten.
    pub fn close_session(&mut self, conn: ConnId) -> Effects {
        if self.drop_session(conn) {
            self.sessions.dirty.insert(conn);
        }
        self.effects()
    }

    /// Ends a session in memory; whether there was one.
    pub(crate) fn drop_session(&mut self, conn: ConnId) -> bool {
        let Some(session) = self.sessions.map.remove(&conn) else {
            return false;
        };
        for name in &session.provides {
            self.sessions.remove_provider(conn, name);
        }
        for id in &session.requested {
            self.sessions.requesters.remove(id);
        }
        self.validators_gone(conn);
        true
    }

    /// The subscriptions of a session (what a hibernating host keeps with the socket).
    pub fn session_state(&self, conn: ConnId) -> Option<SessionState> {
        self.sessions.map.get(&conn).map(Session::state)
    }

    /// Handles one text message of a session at `now`; the reply (`ok`/`error`) and anything
    /// else it causes are in the effects.
    pub fn on_message(&mut self, conn: ConnId, text: &str, now: Millis) -> Effects {
        self.message(conn, text, now);
        self.effects()
    }

    fn message(&mut self, conn: ConnId, text: &str, now: Millis) {
        if !self.sessions.map.contains_key(&conn) {
            return;
        }
        let decoded = if text.len() > self.limits.max_body_bytes {
            Err((
                Value::Null,
                ApiError::too_large(format!(
                    "a message of {} bytes exceeds the limit of {} bytes",
                    text.len(),
                    self.limits.max_body_bytes
                )),
            ))
        } else {
            decode(text)
        };
        let (reference, result) = match decoded {
            Err((reference, e)) => (reference, Err(e)),
            Ok(incoming) => {
                let r = self
                    .recover()
                    .and_then(|()| self.expire_due(now))
                    .and_then(|()| self.dispatch(conn, incoming.msg, now));
                (incoming.reference, r)
            }
        };
        let reference = (!reference.is_null()).then(|| wire::raw(&reference));
        let reference = reference.as_deref();
        match result {
            Ok(None) => {}
            Ok(Some(done)) => {
                let value = done.record.as_ref().map(|r| wire::raw(&r.value));
                let mut reply = match (&done.record, &value) {
                    (Some(r), Some(v)) => Reply::record(r, v),
                    _ => Reply::default(),
                };
                reply.reference = reference;
                reply.version = done.version;
                if let Some((id, status)) = done.request {
                    reply.request = Some(id);
                    reply.status = status.map(Cow::Borrowed);
                }
                self.sessions.send(conn, &ServerMsg::Ok(reply));
            }
            Err(e) => {
                let error = wire::raw(&e.body());
                let msg = ServerMsg::Error(wire::Refusal {
                    reference,
                    error: &error,
                });
                self.sessions.send(conn, &msg);
            }
        }
    }

    fn dispatch(
        &mut self,
        conn: ConnId,
        msg: ClientMsg,
        now: Millis,
    ) -> Result<Option<Done>, ApiError> {
        let p = self.session_mut(conn).principal.clone();
        if !p.permits(Action::of_message(&msg)) {
            return Err(crate::auth::forbidden());
        }
        match msg {
            ClientMsg::Ping => {
                self.sessions.send(conn, &ServerMsg::Pong);
                Ok(None)
            }
            ClientMsg::Watch {
                watch,
                names,
                criteria,
                since,
            } => {
                self.watch(conn, &watch, WatchSpec { names, criteria }, since)?;
                Ok(None)
            }
            ClientMsg::Unwatch { watch } => {
                self.session_mut(conn).watches.remove(&watch);
                self.sessions.dirty.insert(conn);
                Ok(Some(Done::default()))
            }
            ClientMsg::Provide { registers } => {
                let names: Vec<String> = registers.keys().cloned().collect();
                let body = crate::api::register_body::provider_body(&registers);
                self.provider_put(&p, &body, now)?;
                let mut added = false;
                for n in &names {
                    added |= self.session_mut(conn).provides.insert(n.clone());
                    self.sessions.add_provider(conn, n);
                }
                if added {
                    self.sessions.dirty.insert(conn);
                }
                self.deliver_requests(&names, now)?;
                Ok(Some(Done {
                    version: Some(self.registry.head()),
                    ..Done::default()
                }))
            }
            ClientMsg::Unprovide { names } => {
                for n in &names {
                    self.session_mut(conn).provides.remove(n);
                    self.sessions.remove_provider(conn, n);
                }
                self.sessions.dirty.insert(conn);
                Ok(Some(Done::default()))
            }
            ClientMsg::Request { name, value } => {
                let id = self.make_request(&p, name, value, now, Some(conn))?;
                let status = self
                    .registry
                    .request(id)
                    .map(|r| crate::requests::status_name(r.status));
                Ok(Some(Done {
                    request: Some((id, status)),
                    ..Done::default()
                }))
            }
            ClientMsg::Verdict {
                request,
                accept,
                reason,
                apply,
            } => {
                // The same shape as the HTTP verdict's answer.
                let record = self.verdict(&p, request, accept, reason.as_deref(), apply, now)?;
                Ok(Some(Done {
                    record: Some(record),
                    ..Done::default()
                }))
            }
            ClientMsg::Validate {
                validator,
                criteria,
            } => {
                let compiled = self.compile_criteria(&criteria)?;
                let session = self.session_mut(conn);
                session.validators.insert(validator, (criteria, compiled));
                self.sessions.dirty.insert(conn);
                Ok(Some(Done::default()))
            }
            ClientMsg::Unvalidate { validator } => {
                self.session_mut(conn).validators.remove(&validator);
                self.sessions.dirty.insert(conn);
                self.validator_gone(conn, &validator, "unregistered");
                Ok(Some(Done::default()))
            }
            ClientMsg::Decide {
                tx,
                validator,
                accept,
                reason,
            } => {
                self.decide(conn, tx, &validator, accept, reason)?;
                Ok(Some(Done::default()))
            }
        }
    }

    fn session_mut(&mut self, conn: ConnId) -> &mut Session {
        self.sessions.map.entry(conn).or_default()
    }

    /// Compiles query criteria given as texts (an empty list selects everything).
    pub(crate) fn compile_criteria(
        &mut self,
        criteria: &[String],
    ) -> Result<crate::query::eval::Compiled, ApiError> {
        let parsed = crate::query::parse::parse_criteria(criteria)?;
        Ok(self.queries.compile(&parsed)?)
    }

    fn compile_watch(&mut self, spec: &WatchSpec) -> Result<Watch, ApiError> {
        match (&spec.names, &spec.criteria) {
            (Some(names), _) => {
                if names.len() > self.limits.max_names_per_request {
                    return Err(ApiError::too_large(format!(
                        "{} names in one watch, over the limit of {}",
                        names.len(),
                        self.limits.max_names_per_request
                    )));
                }
                Ok(Watch::Names(names.iter().cloned().collect()))
            }
            (None, Some(criteria)) => Ok(Watch::Query(self.compile_criteria(criteria)?)),
            (None, None) => Ok(Watch::Query(self.compile_criteria(&[])?)),
        }
    }

    /// Starts (or replaces) a watch: a snapshot (no `since`, or one older than retention) or
    /// the backlog of every matching change after `since`, then `synced`, then live changes.
    pub fn watch(
        &mut self,
        conn: ConnId,
        id: &str,
        spec: WatchSpec,
        since: Option<u64>,
    ) -> Result<(), ApiError> {
        let head = self.registry.head();
        if let Some(s) = since.filter(|s| *s > head) {
            return Err(ApiError::new(
                400,
                "invalid_since",
                format!("since={s} is ahead of the registry (version {head})"),
            ));
        }
        let session = self.sessions.map.get(&conn);
        let count = session.map_or(0, |s| s.watches.len());
        let replacing = session.is_some_and(|s| s.watches.contains_key(id));
        if !replacing && count >= self.limits.max_watches_per_session {
            return Err(ApiError::capacity(format!(
                "too many watches on one connection (limit {})",
                self.limits.max_watches_per_session
            )));
        }
        let watch = self.compile_watch(&spec)?;
        let base = self.registry.meta().base;
        let p = self.session_mut(conn).principal.clone();
        match since {
            Some(s) if s >= base => self.send_backlog(conn, id, &watch, &p, s, head)?,
            _ => self.send_snapshot(conn, id, &watch, &spec, &p),
        }
        let synced = ServerMsg::Synced(wire::Synced {
            watch: Cow::Borrowed(id),
            version: head,
        });
        self.sessions.send(conn, &synced);
        self.session_mut(conn)
            .watches
            .insert(id.to_string(), (spec, watch));
        self.sessions.dirty.insert(conn);
        Ok(())
    }

    fn send_snapshot(
        &mut self,
        conn: ConnId,
        id: &str,
        watch: &Watch,
        spec: &WatchSpec,
        p: &Principal,
    ) {
        let silent = |e: &crate::Entry| self.config.is_silent(&e.kind) || !p.may_read(&e.id);
        let entries: Vec<&crate::Entry> = match (watch, &spec.names) {
            (Watch::Names(_), Some(names)) => {
                let mut seen = std::collections::BTreeSet::new();
                names
                    .iter()
                    .filter(|n| seen.insert(n.as_str()))
                    .filter_map(|n| self.registry.get(n))
                    .filter(|e| !silent(e))
                    .collect()
            }
            (Watch::Query(q), _) => self
                .registry
                .entries()
                .filter(|e| !silent(e) && q.matches(e))
                .collect(),
            _ => Vec::new(),
        };
        let head = self.registry.head();
        let entries = wire::raw(&entries);
        let msg = ServerMsg::Snapshot(wire::Snapshot {
            watch: Cow::Borrowed(id),
            version: head,
            entries: &entries,
        });
        self.sessions.send(conn, &msg);
    }

    fn send_backlog(
        &mut self,
        conn: ConnId,
        id: &str,
        watch: &Watch,
        p: &Principal,
        since: u64,
        head: u64,
    ) -> Result<(), ApiError> {
        let mut from = since + 1;
        while from <= head {
            let to = head.min(from + BACKLOG_CHUNK - 1);
            let versions = self.store.versions(from, to).map_err(ApiError::storage)?;
            for v in &versions {
                if let Some(ops) = self.matching_ops(watch, p, v) {
                    let msg = change_message(conn, id, v, &ops);
                    self.sessions.out.push(msg);
                }
            }
            from = to + 1;
        }
        Ok(())
    }

    /// The operations of a version a watch of `p` sees, as a JSON array (`None`: none).
    fn matching_ops(&self, watch: &Watch, p: &Principal, v: &Version) -> Option<Box<RawValue>> {
        let items = watch.items(&v.changeset, &|kind| self.config.is_silent(kind), &|id| {
            p.may_read(id)
        });
        (!items.is_empty()).then(|| wire::raw(&items))
    }

    /// Sends a new version to every watch it concerns. Watches with the same selection and
    /// the same read scope share one evaluation and one serialization of the operations
    /// (1,000 watchers of one register cost one match and one JSON encoding, plus 1,000 short
    /// envelopes).
    pub(crate) fn fan_out(&mut self, v: &Version) {
        type Key<'a> = (&'a WatchSpec, Option<&'a [String]>);
        let mut shared: std::collections::HashMap<Key<'_>, Option<Box<RawValue>>> =
            std::collections::HashMap::new();
        let mut out = Vec::new();
        for (conn, session) in &self.sessions.map {
            let p = &session.principal;
            for (id, (spec, watch)) in &session.watches {
                let ops = shared
                    .entry((spec, p.prefixes()))
                    .or_insert_with(|| self.matching_ops(watch, p, v));
                if let Some(ops) = ops {
                    out.push(change_message(*conn, id, v, ops));
                }
            }
        }
        self.sessions.out.extend(out);
    }

    /// Tells the requesting sessions the outcome of their requests.
    pub(crate) fn send_outcomes(&mut self, resolved: &[u64]) {
        for id in resolved {
            let Some(conn) = self.sessions.requesters.remove(id) else {
                continue;
            };
            if let Some(s) = self.sessions.map.get_mut(&conn) {
                s.requested.remove(id);
                self.sessions.dirty.insert(conn);
            }
            if let Some(r) = self.registry.request(*id) {
                let msg = ServerMsg::Outcome(wire::Outcome {
                    request: r.id,
                    name: Cow::Borrowed(&r.name),
                    status: Cow::Borrowed(crate::requests::status_name(r.status)),
                    reason: r.reason.as_deref().map(Cow::Borrowed),
                });
                self.sessions.send(conn, &msg);
            }
        }
    }

    /// Hands the pending requests for `names` to the sessions providing them (newest provider
    /// first); they become delivered.
    pub(crate) fn deliver_requests(
        &mut self,
        names: &[String],
        now: Millis,
    ) -> Result<(), ApiError> {
        let wanted: Vec<String> = names
            .iter()
            .filter(|n| {
                self.sessions.providers.contains_key(n.as_str())
                    && self.registry.pending_request(n).is_some()
            })
            .cloned()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let (commit, taken): (Commit, _) = self.registry.plan_take_requests(
            Some(&wanted),
            |_| true,
            now,
            self.limits.request_ttl_ms,
        );
        self.commit(commit)?;
        for r in taken {
            self.send_request(&r);
        }
        Ok(())
    }

    /// Sends a delivered change request to the newest session providing its name.
    pub(crate) fn send_request(&mut self, r: &crate::entry::PendingRequest) {
        if let Some(conn) = self.sessions.provider_of(&r.name) {
            let value = wire::raw(&r.value);
            let msg = ServerMsg::Request(wire::Delivered {
                request: r.id,
                name: Cow::Borrowed(&r.name),
                value: &value,
            });
            self.sessions.send(conn, &msg);
        }
    }
}

/// A `change` message: `ops` is the JSON array of the operations the watch sees (serialized
/// once for every watch with the same selection); only this envelope is built per watch.
fn change_message(conn: ConnId, watch: &str, v: &Version, ops: &RawValue) -> Outgoing {
    let msg = ServerMsg::Change(wire::Change {
        watch: Cow::Borrowed(watch),
        version: v.version,
        actor: Cow::Borrowed(&v.actor),
        ops,
    });
    Outgoing {
        conn,
        event: msg.event(),
        version: msg.version(),
        text: msg.to_text(),
    }
}
