//! The register API (`/consumer`, `/provider`), wire-compatible with reg. See `docs/protocol.md`.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::http::HttpResponse;
use super::query::{parse_poll_params, PollParams};
use super::register_body::{decode_consumer_put, decode_provider_put, ProviderItem};
use crate::auth::Principal;
use crate::duration::Millis;
use crate::entry::Entry;
use crate::entry::REGISTER_KIND;
use crate::history::{same_content, Op};
use crate::registry::history_entry;
use crate::service::{Reply, Service};
use crate::store::Store;
use crate::waiters::WaitKind;
use crate::write::{Intent, Respond, Write};

impl<S: Store> Service<S> {
    /// `GET /consumer`: the named registers (all if none named), optionally after a long poll.
    /// Names outside the principal's scope are left out, as if they did not exist.
    pub(crate) fn consumer_get(
        &mut self,
        p: &Principal,
        query: &str,
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let params = self.scoped_poll_params(query, |n| p.may_read(n))?;
        let changed = params.since.is_some_and(|v| match &params.names {
            None if !p.is_unrestricted() => self.registry.changed_since_where(v, |n| p.may_read(n)),
            names => self.registry.changed_since(names.as_deref(), v),
        });
        if params.wait_ms <= 0 || changed {
            return Ok(Reply::Respond(
                self.values_response(p, params.names.as_deref()),
            ));
        }
        self.hold(p, WaitKind::Values, params, now)
    }

    /// `GET /provider`: takes the pending change requests for the names (all if none named)
    /// within the principal's scope; if there are none and `wait` > 0, waits for one.
    pub(crate) fn provider_get(
        &mut self,
        p: &Principal,
        query: &str,
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let params = self.scoped_poll_params(query, |n| p.may_answer(n))?;
        let (commit, taken) = self.registry.plan_take_requests(
            params.names.as_deref(),
            |n| p.may_answer(n),
            now,
            self.limits.request_ttl_ms,
        );
        if !taken.is_empty() || params.wait_ms <= 0 {
            self.commit(commit)?;
            return Ok(Reply::Respond(requests_response(taken)));
        }
        self.hold(p, WaitKind::Requests, params, now)
    }

    /// `PUT /consumer`: queue change requests (latest per register wins). 202.
    pub(crate) fn consumer_put(
        &mut self,
        p: &Principal,
        body: &[u8],
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let requests = decode_consumer_put(body)?;
        self.check_name_count(requests.len())?;
        self.check_requests(p, &requests)?;
        let commit = self
            .registry
            .plan_request_changes(now, self.limits.request_ttl_ms, requests);
        self.commit_requests(commit, now)?;
        Ok(Reply::Respond(HttpResponse::empty(202)))
    }

    /// `PUT /provider`: create or update registers, reset their TTL. 204.
    pub(crate) fn provider_put(
        &mut self,
        p: &Principal,
        body: &[u8],
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let items = decode_provider_put(body)?;
        self.check_name_count(items.len())?;
        let w = self.plan_registers(p, items, Intent::Registers, Respond::Registers)?;
        self.write(w, now)
    }

    /// Plans provider writes as a write of `intent`: a register whose value, metadata and TTL
    /// are unchanged is only refreshed; a register may not replace an entry of another kind;
    /// the default TTL fills in; delivered requests for exactly the published value are
    /// accepted in the same commit.
    pub(crate) fn plan_registers(
        &self,
        p: &Principal,
        items: Vec<ProviderItem>,
        intent: Intent,
        respond: Respond,
    ) -> Result<Write, ApiError> {
        // Out of scope is refused before the kind check below can tell what exists.
        crate::write::checks::scope_of(p, intent, items.iter().map(|i| &i.name))?;
        let mut w = Write::new(intent, ACTOR_PROVIDER, respond).by(p);
        w.extra.meta = self.registry.meta();
        for item in items {
            let entry = Entry {
                id: item.name,
                kind: REGISTER_KIND.to_string(),
                meta: item.metadata,
                data: item.value,
                ttl_ms: Some(item.ttl_ms.unwrap_or(self.limits.default_ttl_ms)),
                expires_at: None,
                version: 0,
            };
            let old = self.registry.get(&entry.id);
            if let Some(e) = old.filter(|e| e.kind != REGISTER_KIND) {
                return Err(ApiError::new(
                    409,
                    "kind_conflict",
                    format!(
                        "{:?} is an entry of kind {:?}, not a register; nothing was written",
                        entry.id, e.kind
                    ),
                ));
            }
            self.registry
                .plan_implicit_accept(&entry.id, &entry.data, &mut w.extra);
            w.order.push(entry.id.clone());
            match old {
                Some(old) if same_content(old, &entry) => w.refresh.push(entry.id),
                Some(old) => w.ops.push(Op::update(history_entry(old), entry)),
                None => w.ops.push(Op::create(entry)),
            }
        }
        Ok(w)
    }

    /// The current state of the named (existing) registers, or of all, that `p` may read.
    pub(crate) fn values_response(&self, p: &Principal, names: Option<&[String]>) -> HttpResponse {
        let mut registers = Map::new();
        let mut add = |e: &crate::entry::Entry| {
            let mut r = Map::new();
            r.insert("value".into(), e.data.clone());
            if !e.meta.is_empty() {
                r.insert("metadata".into(), Value::Object(e.meta.clone()));
            }
            registers.insert(e.id.clone(), Value::Object(r));
        };
        // Only entries of kind `register` are registers; other kinds live in `/v1` only.
        let is_register = |e: &&crate::entry::Entry| e.kind == REGISTER_KIND && p.may_read(&e.id);
        match names {
            None => self
                .registry
                .entries()
                .filter(is_register)
                .for_each(&mut add),
            Some(names) => names
                .iter()
                .filter_map(|n| self.registry.get(n))
                .filter(is_register)
                .for_each(&mut add),
        }
        HttpResponse::json(200, &registers_doc(registers))
    }

    /// Takes the pending requests for the names and answers them.
    pub(crate) fn take_requests_response(
        &mut self,
        p: &Principal,
        names: Option<&[String]>,
        now: Millis,
    ) -> Result<HttpResponse, ApiError> {
        let (commit, taken) = self.registry.plan_take_requests(
            names,
            |n| p.may_answer(n),
            now,
            self.limits.request_ttl_ms,
        );
        self.commit(commit)?;
        Ok(requests_response(taken))
    }

    /// Holds a long poll of `kind` on `params.names` until `wait` (capped) passes.
    pub(crate) fn hold(
        &mut self,
        p: &Principal,
        kind: WaitKind,
        params: PollParams,
        now: Millis,
    ) -> Result<Reply, ApiError> {
        self.check_connection_capacity()?;
        if self.waiters.len() >= self.limits.max_waiters {
            return Err(ApiError::capacity(format!(
                "too many long polls held (limit {}); retry later",
                self.limits.max_waiters
            )));
        }
        let wait = (params.wait_ms as u64).min(self.limits.max_wait_ms);
        let deadline = now.saturating_add(wait);
        let waiter = self.waiters.add(kind, params.names, p.clone());
        Ok(Reply::Wait { waiter, deadline })
    }

    /// A poll's parameters with the names outside the asker's scope (`in_scope`) dropped, as if
    /// they did not exist: they are never answered and their changes never wake the poll.
    fn scoped_poll_params(
        &self,
        query: &str,
        in_scope: impl Fn(&str) -> bool,
    ) -> Result<PollParams, ApiError> {
        let mut params = parse_poll_params(query)?;
        self.check_name_count(params.names.as_deref().map_or(0, <[String]>::len))?;
        if let Some(names) = &mut params.names {
            names.retain(|n| in_scope(n));
        }
        Ok(params)
    }

    pub(crate) fn check_name_count(&self, count: usize) -> Result<(), ApiError> {
        if count > self.limits.max_names_per_request {
            return Err(ApiError::too_large(format!(
                "{count} names in one request, over the limit of {}",
                self.limits.max_names_per_request
            )));
        }
        Ok(())
    }
}

fn registers_doc(registers: Map<String, Value>) -> Value {
    let mut doc = Map::new();
    doc.insert("registers".into(), Value::Object(registers));
    Value::Object(doc)
}

/// The taken requests in reg's shape; their ids travel in the `X-Request-Ids` header (a JSON
/// object name → id) so that a provider can answer with a verdict.
fn requests_response(taken: Vec<crate::entry::PendingRequest>) -> HttpResponse {
    let mut registers = Map::new();
    let ids: Map<String, Value> = taken
        .iter()
        .map(|r| (r.name.clone(), Value::from(r.id)))
        .collect();
    for r in taken {
        let mut item = Map::new();
        item.insert("value".into(), r.value);
        registers.insert(r.name, Value::Object(item));
    }
    let response = HttpResponse::json(200, &registers_doc(registers));
    if ids.is_empty() {
        return response;
    }
    response.with_header(REQUEST_IDS_HEADER, Value::Object(ids).to_string())
}

/// Actor of versions written by providers.
pub const ACTOR_PROVIDER: &str = "provider";

/// Header of `GET /provider` answers: the ids of the requests taken, by name.
pub const REQUEST_IDS_HEADER: &str = "x-request-ids";
