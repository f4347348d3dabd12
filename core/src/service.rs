//! The engine a host drives: one registry's state, its store, its held long polls and its
//! limits. The host passes `now` into every call (the core has no clock), writes nothing
//! itself and holds the connections of waiting requests. Every call that can change something
//! returns a [`Step`]: its value and the [`Effects`] the host carries out (wake held requests,
//! send stream messages, close connections, arm the alarm).

use crate::api::{ApiError, HttpRequest, HttpResponse};
use crate::auth::{Action, Principal};
use crate::config::Limits;
use crate::duration::Millis;
use crate::effects::{Effects, Step};
use crate::history::{Checkpoint, Op, Version};
use crate::registry::Registry;
use crate::store::{Commit, Store, StoreError};
use crate::waiters::{WaitKind, WaiterId, Waiters};

/// Header carrying the registry version a response reflects.
pub const VERSION_HEADER: &str = "x-registry-version";

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Answer now.
    Respond(HttpResponse),
    /// Hold the request until the waiter is woken or `deadline` passes, then call
    /// [`Service::resume`].
    Wait {
        /// The held long poll.
        waiter: WaiterId,
        /// When to resume it if nothing woke it.
        deadline: Millis,
    },
}

/// One registry, driven by a host.
pub struct Service<S: Store> {
    pub(crate) registry: Registry,
    pub(crate) store: S,
    pub(crate) waiters: Waiters,
    pub(crate) limits: Limits,
    pub(crate) queries: crate::query::QueryCache,
    pub(crate) woken: Vec<WaiterId>,
    poisoned: bool,
    pub(crate) sessions: crate::stream::Sessions,
    pub(crate) pending_tx: crate::validators::PendingTxs,
    /// The `now` of the call in progress (set on entry to every call that can commit).
    pub(crate) clock: Millis,
    /// Limits as configured by the host (the registry config may override some).
    pub(crate) host_limits: Limits,
    pub(crate) config: crate::registry_config::Config,
    pub(crate) deps: crate::deps::DepIndex,
    pub(crate) listeners: Vec<Box<dyn crate::listen::Listener>>,
    /// Counters since the object started (`GET /metrics`).
    pub(crate) counters: crate::metrics::Counters,
    /// Held MCP tool calls: the JSON-RPC id each waiter's answer is for.
    pub(crate) mcp_waits: std::collections::HashMap<WaiterId, serde_json::Value>,
    /// Versions written by the call in progress (drained into [`Effects::written`]).
    pub(crate) written: Vec<crate::logline::VersionWritten>,
}

impl<S: Store> std::fmt::Debug for Service<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("head", &self.registry.head())
            .field("entries", &self.registry.len())
            .field("waiters", &self.waiters.len())
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

impl<S: Store> Service<S> {
    /// Loads the registry from its store. Nothing is written and no version is created.
    pub fn load(store: S, limits: Limits) -> Result<Self, StoreError> {
        let registry = Registry::from_snapshot(store.load()?);
        Ok(Service {
            registry,
            store,
            waiters: Waiters::default(),
            queries: crate::query::QueryCache::new(
                limits.query_cache_entries,
                limits.pattern_cache_entries,
            ),
            host_limits: limits.clone(),
            limits,
            woken: Vec::new(),
            poisoned: false,
            sessions: Default::default(),
            pending_tx: Default::default(),
            clock: 0,
            config: Default::default(),
            deps: Default::default(),
            listeners: vec![Box::new(crate::listen::DependencyIntegrity)],
            counters: Default::default(),
            mcp_waits: Default::default(),
            written: Vec::new(),
        }
        .with_stored_config())
    }

    /// Applies the configuration stored in the registry (or the default) and rebuilds the
    /// dependency index. A stored configuration that no longer validates is ignored (default).
    fn with_stored_config(mut self) -> Self {
        self.reload_config();
        self
    }

    fn reload_config(&mut self) {
        use crate::registry_config::{Config, RegistryConfig, CONFIG_ID};
        let stored = self
            .registry
            .get(CONFIG_ID)
            .and_then(|e| serde_json::from_value::<RegistryConfig>(e.data.clone()).ok())
            .unwrap_or_default();
        self.config = Config::from_stored(stored).unwrap_or_default();
        self.limits.max_versions = self
            .config
            .stored
            .retention_versions
            .or(self.host_limits.max_versions);
        self.deps = crate::deps::DepIndex::build(self.registry.entries(), &self.config.patterns);
    }

    /// The configuration in force.
    pub fn config(&self) -> &crate::registry_config::Config {
        &self.config
    }

    /// The dependency index of the current entries.
    pub fn dependency_index(&self) -> &crate::deps::DepIndex {
        &self.deps
    }

    /// Adds a listener that takes part in every transaction.
    pub fn add_listener(&mut self, listener: Box<dyn crate::listen::Listener>) {
        self.listeners.push(listener);
    }

    /// Orders a changeset by dependencies (creates/updates after what they need, deletes
    /// before what they need); a cycle is a 422 that names it.
    pub(crate) fn order_ops(&self, ops: Vec<Op>) -> Result<Vec<Op>, ApiError> {
        crate::deps::order(ops, &self.config.patterns).map_err(|e| {
            ApiError::new(422, "rejected", e.to_string()).with_reasons(vec![crate::api::Reason {
                op: None,
                id: e.0.first().cloned(),
                listener: Some("dependency-order".into()),
                reason: e.to_string(),
            }])
        })
    }

    /// Offers an ordered changeset to every listener (operations on non-propagated kinds are
    /// not offered) and gathers every verdict; on any rejection the listeners are told to
    /// discard and every reason is returned.
    pub(crate) fn run_listeners(
        &mut self,
        ops: &[Op],
        index_of: &dyn Fn(&str) -> Option<usize>,
    ) -> Vec<crate::api::Reason> {
        let ctx =
            crate::listen::TxContext::new(&self.registry, &self.deps, &self.config.patterns, ops);
        let offered: Vec<&Op> = ops
            .iter()
            .filter(|op| {
                let kind = op
                    .entry
                    .as_ref()
                    .or(op.before.as_ref())
                    .map(|e| e.kind.as_str())
                    .unwrap_or("");
                !self.config.is_silent(kind)
            })
            .collect();
        let mut reasons = Vec::new();
        for l in self.listeners.iter_mut() {
            l.begin(&ctx);
        }
        for op in &offered {
            for l in self.listeners.iter_mut() {
                if let Err(reason) = l.operation(op, &ctx) {
                    reasons.push(crate::api::Reason {
                        op: index_of(&op.id),
                        id: Some(op.id.clone()),
                        listener: Some(l.name().to_string()),
                        reason,
                    });
                }
            }
        }
        if !reasons.is_empty() {
            self.listeners_discard();
        }
        reasons
    }

    /// Tells the listeners a transaction they accepted will not be written.
    pub(crate) fn listeners_discard(&mut self) {
        for l in self.listeners.iter_mut() {
            l.discard();
        }
    }

    /// Tells the listeners a transaction they accepted was written.
    pub(crate) fn listeners_committed(&mut self, version: u64) {
        for l in self.listeners.iter_mut() {
            l.commit(version);
        }
    }

    /// The registry state.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (fault injection in tests).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The query caches (hit and miss counters for tests).
    pub fn query_cache(&self) -> &crate::query::QueryCache {
        &self.queries
    }

    /// The ids of the current entries that match a query (cached by query and version).
    pub fn find(
        &mut self,
        criteria: &[crate::query::parse::Criterion],
    ) -> Result<std::sync::Arc<Vec<String>>, ApiError> {
        self.queries
            .find(self.registry.head(), criteria, self.registry.entries())
            .map_err(ApiError::from)
    }

    /// Held long polls.
    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    /// Whether a store write failed and the state will be reloaded from the store before the
    /// next call is served.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// After a failed store write: reloads the state from the store, in place. Held requests,
    /// stream sessions and waiter ids are kept (a waiter id is never reused), so held requests
    /// finish normally. While the store cannot be read, calls answer 503 and the next one
    /// tries again.
    pub(crate) fn recover(&mut self) -> Result<(), ApiError> {
        if !self.poisoned {
            return Ok(());
        }
        let snapshot = self.store.load().map_err(ApiError::storage)?;
        self.registry = Registry::from_snapshot(snapshot);
        self.queries = crate::query::QueryCache::new(
            self.limits.query_cache_entries,
            self.limits.pattern_cache_entries,
        );
        self.reload_config();
        self.poisoned = false;
        Ok(())
    }

    /// The effects of the call that just ran: drains what it queued and reads the alarm.
    pub(crate) fn effects(&mut self) -> Effects {
        let close = self.save_dirty_sessions();
        Effects {
            wake: std::mem::take(&mut self.woken),
            send: std::mem::take(&mut self.sessions.out),
            close,
            alarm: self.next_alarm(),
            written: std::mem::take(&mut self.written),
        }
    }

    /// Wraps a call's value with its effects.
    pub(crate) fn step<T>(&mut self, value: T) -> Step<T> {
        Step {
            value,
            effects: self.effects(),
        }
    }

    /// When the host's alarm must fire next: the earliest TTL or change-request expiry.
    pub fn next_alarm(&self) -> Option<Millis> {
        self.registry.next_expiry()
    }

    /// The alarm fired: expires everything due at `now`.
    pub fn on_alarm(&mut self, now: Millis) -> Step<Result<(), ApiError>> {
        let result = self.recover().and_then(|()| self.expire_due(now));
        self.step(result)
    }

    /// Expires everything due at `now` (run on the alarm and before every request, so an
    /// expired entry is never served even if the alarm is late). An expiry is a write of its
    /// own intent through the pipeline.
    pub(crate) fn expire_due(&mut self, now: Millis) -> Result<(), ApiError> {
        self.clock = self.clock.max(now);
        let Some((ops, extra)) = self.registry.plan_expiry(now) else {
            return Ok(());
        };
        let mut w = crate::write::Write::new(
            crate::write::Intent::Expiry,
            crate::history::ACTOR_TTL,
            crate::write::Respond::Nothing,
        );
        let expired = ops.len() as u64;
        w.ops = ops;
        w.extra = extra;
        self.write(w, now)?;
        self.counters.expiries += expired;
        Ok(())
    }

    /// Handles one request at `now`.
    pub fn handle(&mut self, req: &HttpRequest, now: Millis) -> Step<Reply> {
        let reply = match self.recover().and_then(|()| self.route(req, now)) {
            Ok(reply) => reply,
            Err(e) => Reply::Respond(e.to_response()),
        };
        if matches!(&reply, Reply::Respond(r) if r.status == 400) {
            self.counters.bad_requests += 1;
        }
        let reply = self.stamp(reply);
        self.step(reply)
    }

    /// Finishes a held long poll (woken or timed out) and forgets the waiter.
    pub fn resume(&mut self, waiter: WaiterId, now: Millis) -> Step<HttpResponse> {
        let Some(w) = self.waiters.remove(waiter) else {
            let gone = ApiError::new(500, "unknown_waiter", "long poll already finished");
            return self.step(gone.to_response());
        };
        let result = self
            .recover()
            .and_then(|()| self.expire_due(now))
            .and_then(|()| match w.kind {
                WaitKind::Values => Ok(self.values_response(&w.principal, w.names.as_deref())),
                WaitKind::Requests => {
                    self.take_requests_response(&w.principal, w.names.as_deref(), now)
                }
                WaitKind::Outcome => self.outcome_response(w.names.as_deref()),
                WaitKind::Tx => {
                    let done = self.finish_pending_tx(waiter, now);
                    self.count_transaction(done.is_ok());
                    done
                }
            });
        let mut response = result.unwrap_or_else(|e| e.to_response());
        if let Some(id) = self.mcp_waits.remove(&waiter) {
            response = crate::mcp::held_tool_answer(id, response);
        }
        let response = match self.stamp(Reply::Respond(response)) {
            Reply::Respond(r) => r,
            Reply::Wait { .. } => unreachable!("stamp keeps the variant"),
        };
        self.step(response)
    }

    /// Applies a changeset as one version by `actor` at `now` (creates/updates carry the new
    /// entry), in the given order, through the write pipeline's checks (no listeners: see the
    /// policy table). A changeset that does not fit changes nothing. Returns the new head
    /// (unchanged if the changeset is empty).
    ///
    /// ```
    /// use registry_core::history::Op;
    /// use registry_core::{Entry, Limits, MemStore, Service};
    /// let mut svc = Service::load(MemStore::default(), Limits::default()).unwrap();
    /// let e = Entry { id: "a".into(), kind: "k".into(), meta: Default::default(),
    ///                 data: serde_json::json!(1), ttl_ms: None, expires_at: None, version: 0 };
    /// assert_eq!(svc.commit_changeset(0, "api", vec![Op::create(e)]).value.unwrap(), 1);
    /// ```
    pub fn commit_changeset(
        &mut self,
        now: Millis,
        actor: &str,
        ops: Vec<Op>,
    ) -> Step<Result<u64, ApiError>> {
        let mut w = crate::write::Write::new(
            crate::write::Intent::Changeset,
            actor,
            crate::write::Respond::Nothing,
        );
        w.ops = ops;
        let result = self
            .recover()
            .and_then(|()| self.write(w, now))
            .map(|_| self.registry.head());
        self.step(result)
    }

    /// Forgets a held long poll whose client went away (its requests stay pending).
    pub fn cancel(&mut self, waiter: WaiterId) -> Effects {
        if self.is_pending_tx(waiter) {
            self.drop_pending_tx(waiter);
        }
        self.waiters.remove(waiter);
        self.mcp_waits.remove(&waiter);
        self.effects()
    }

    /// Writes a commit to the store, then applies it and wakes whoever it concerns; returns the
    /// version it made, if any. A commit that makes a version also carries a checkpoint every
    /// `checkpoint_interval` versions and, with retention, the fold of the oldest versions.
    pub(crate) fn commit(&mut self, mut commit: Commit) -> Result<Option<Version>, ApiError> {
        if commit.is_empty() {
            return Ok(None);
        }
        if let Some(v) = &commit.version {
            let number = v.version;
            if number % self.limits.checkpoint_interval.max(1) == 0 {
                let mut state = self.registry.content_state();
                crate::history::apply(&mut state, &v.changeset)
                    .map_err(|e| ApiError::new(500, "internal", e.to_string()))?;
                commit.checkpoint = Some(Checkpoint {
                    version: number,
                    state,
                });
            }
            if let Some(max) = self.limits.max_versions {
                let keep_from = number.saturating_sub(max);
                if keep_from > commit.meta.base + self.limits.checkpoint_interval {
                    let at = match &commit.checkpoint {
                        Some(c) if c.version <= keep_from => Some(c.version),
                        _ => self
                            .store
                            .checkpoint_version_at_or_below(keep_from)
                            .map_err(ApiError::storage)?,
                    };
                    if let Some(at) = at.filter(|at| *at > commit.meta.base) {
                        commit.meta.base = at;
                        commit.fold = true;
                    }
                }
            }
        }
        self.registry.plan_prune_records(&mut commit);
        if let Err(e) = self.store.commit(&commit) {
            self.poisoned = true;
            return Err(ApiError::storage(e));
        }
        let values = if self.waiters.is_empty() {
            Vec::new()
        } else {
            self.waiters.wake(WaitKind::Values, &commit.changed)
        };
        // Provider polls resume newest first: the newest poll for a name takes its request. A
        // client that re-polls (new names, reconnect) therefore wins over its own older poll,
        // whose connection may already be gone.
        let requests = if self.waiters.is_empty() {
            Vec::new()
        } else {
            self.waiters.wake(WaitKind::Requests, &commit.requested)
        };
        let outcomes = if commit.resolved.is_empty() || self.waiters.is_empty() {
            Vec::new()
        } else {
            let ids: Vec<String> = commit.resolved.iter().map(u64::to_string).collect();
            self.waiters.wake(WaitKind::Outcome, &ids)
        };
        // The state does not need the version once written: it is taken, not copied.
        let version = commit.version.take();
        if let Some(v) = &version {
            self.counters.versions_written += 1;
            self.written.push(crate::logline::VersionWritten {
                version: v.version,
                actor: v.actor.clone(),
                ops: v.changeset.len(),
                timestamp: v.timestamp,
            });
        }
        let resolved = std::mem::take(&mut commit.resolved);
        self.registry.apply(commit);
        let changeset = version.as_ref().map_or(&[][..], |v| &v.changeset[..]);
        if changeset
            .iter()
            .any(|op| op.id == crate::registry_config::CONFIG_ID)
        {
            self.reload_config();
        } else {
            for op in changeset {
                let deps = self
                    .registry
                    .get(&op.id)
                    .map(|e| crate::deps::dependencies(e, &self.config.patterns))
                    .unwrap_or_default();
                self.deps.set(&op.id, deps);
            }
        }
        self.woken.extend(values);
        self.woken.extend(requests.into_iter().rev());
        self.woken.extend(outcomes);
        if let Some(v) = version.as_ref().filter(|_| !self.sessions.map.is_empty()) {
            self.fan_out(v);
        }
        self.send_outcomes(&resolved);
        Ok(version)
    }

    pub(crate) fn route(&mut self, req: &HttpRequest, now: Millis) -> Result<Reply, ApiError> {
        if req.body.len() > self.limits.max_body_bytes {
            return Err(ApiError::too_large(format!(
                "request body of {} bytes exceeds the limit of {} bytes",
                req.body.len(),
                self.limits.max_body_bytes
            )));
        }
        let method = req.method.as_str();
        let p = &req.principal;
        let not_allowed = || Err(ApiError::method_not_allowed(method));
        // Entry ids are percent-decoded on their own so that `/` and `%` can be part of an id.
        if let Some(raw) = req.path.strip_prefix("/v1/entries/") {
            let (raw_id, sub) = raw.split_once('/').unwrap_or((raw, ""));
            let id = crate::api::query::percent_decode(raw_id, false)
                .map_err(|e| ApiError::new(400, "invalid_id", format!("invalid entry id: {e}")))?;
            // Out of scope is refused before anything else, so it tells nothing of the entry.
            crate::auth::check(p, Action::of_request(method, &req.path), &id)?;
            self.expire_due(now)?;
            return match (sub, method) {
                ("dependencies", "GET") => self.v1_dependencies(p, &id),
                ("dependencies", _) => not_allowed(),
                ("", _) => match method {
                    "GET" => self.v1_get_entry(&id),
                    "PUT" => self.v1_put_entry(p, &id, &req.body, now),
                    "DELETE" => self.v1_delete_entry(p, &id, &req.query, now),
                    _ => not_allowed(),
                },
                _ => Err(ApiError::not_found(&req.path)),
            };
        }
        if let Some(rest) = req.path.strip_prefix("/v1/requests") {
            if rest.is_empty() || rest.starts_with('/') {
                self.expire_due(now)?;
                return self.v1_requests(p, method, rest, &req.query, &req.body, now);
            }
        }
        if let Some(v) = req.path.strip_prefix("/v1/versions/") {
            self.expire_due(now)?;
            return if method == "GET" {
                self.v1_version(p, v)
            } else {
                not_allowed()
            };
        }
        let path = crate::api::query::percent_decode(&req.path, false)
            .map_err(|_| ApiError::not_found(&req.path))?;
        let allowed: &[&str] = match path.as_str() {
            "/consumer" | "/provider" => &["GET", "PUT"],
            "/v1/health" | "/v1/entries" | "/v1/versions" | "/v1/diff" | "/v1/state" => &["GET"],
            "/v1/rollback" | "/v1/tx" | "/mcp" => &["POST"],
            "/metrics" => &["GET"],
            "/v1/config" => &["GET", "PUT"],
            "/v1/ws" | "/v1/watch" => {
                return Err(ApiError::new(
                    400,
                    "stream_required",
                    format!(
                        "{path} is a stream: open it as a WebSocket (/v1/ws) or an event stream \
                         (GET /v1/watch, Accept: text/event-stream)"
                    ),
                ))
            }
            _ => return Err(ApiError::not_found(&req.path)),
        };
        if !allowed.contains(&method) {
            return not_allowed();
        }
        self.expire_due(now)?;
        match (path.as_str(), method) {
            ("/consumer", "GET") => self.consumer_get(p, &req.query, now),
            ("/consumer", _) => self.consumer_put(p, &req.body, now),
            ("/provider", "GET") => self.provider_get(p, &req.query, now),
            ("/provider", _) => self.provider_put(p, &req.body, now),
            ("/v1/entries", _) => self.v1_list_entries(p, &req.query),
            ("/v1/versions", _) => self.v1_versions(p, &req.query),
            ("/v1/diff", _) => self.v1_diff(p, &req.query),
            ("/v1/state", _) => self.v1_state(p, &req.query),
            ("/v1/rollback", _) => self.v1_rollback(p, &req.body, now),
            ("/v1/tx", _) => self.v1_tx(p, &req.body, now),
            ("/v1/config", "GET") => {
                crate::auth::check(p, Action::ConfigRead, crate::registry_config::CONFIG_ID)?;
                self.v1_get_config()
            }
            ("/v1/config", _) => self.v1_put_config(p, &req.body, now),
            ("/metrics", _) => Ok(Reply::Respond(self.metrics(p))),
            ("/mcp", _) => self.mcp(req, now),
            _ => Ok(Reply::Respond(self.health(p))),
        }
    }

    fn health(&self, p: &Principal) -> HttpResponse {
        let mut doc = serde_json::json!({
            "status": "ok",
            // Open mode is said out loud: anyone who reaches the worker may do anything.
            "auth": if p.is_open() { "open" } else { "tokens" },
            "version": self.registry.head(),
        });
        // Counts cover the whole registry: only a token that sees all of it gets them.
        if p.is_unrestricted() {
            doc["entries"] = self.registry.len().into();
            doc["pending_requests"] = self.registry.pending_requests().into();
            doc["waiters"] = self.waiters.len().into();
        }
        HttpResponse::json(200, &doc)
    }

    fn stamp(&self, reply: Reply) -> Reply {
        match reply {
            Reply::Respond(r) => {
                Reply::Respond(r.with_header(VERSION_HEADER, self.registry.head().to_string()))
            }
            wait => wait,
        }
    }
}
