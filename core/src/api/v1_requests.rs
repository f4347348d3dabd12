//! Change requests with ids and outcomes (`/v1/requests`), shared with the stream protocol, and
//! the opening of an SSE watch (`GET /v1/watch`). See `docs/protocol.md`.

use crate::auth::{Action, Principal};
use serde_json::Value;

use super::error::ApiError;
use super::http::HttpResponse;
use super::query::{parse_pairs, parse_poll_params, PollParams};
use super::register::ACTOR_PROVIDER;
use super::register_body::ProviderItem;
use crate::duration::Millis;
use crate::entry::{RequestRecord, RequestStatus};
use crate::requests::{record_of, VerdictError};
use crate::service::{Reply, Service};
use crate::store::Commit;
use crate::store::Store;
use crate::stream::watch::WatchSpec;
use crate::stream::ConnId;
use crate::waiters::WaitKind;
use crate::write::{Intent, Respond, Write};

use crate::stream::wire::{RequestBody as NewRequest, VerdictBody};

/// The JSON of a request record (the shape of a stream `verdict`'s answer too).
pub fn record_json(r: &RequestRecord) -> Value {
    let value = crate::stream::wire::raw(&r.value);
    serde_json::to_value(crate::stream::wire::Reply::record(r, &value)).unwrap_or(Value::Null)
}

fn parse_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| {
        ApiError::new(
            400,
            "invalid_request_id",
            format!("invalid request id {text:?}"),
        )
    })
}

fn unknown(id: u64) -> ApiError {
    ApiError::new(
        404,
        "unknown_request",
        format!("no change request {id} (never issued, or forgotten)"),
    )
}

impl<S: Store> Service<S> {
    /// Makes one change request (the latest per register wins); returns its id. `conn`, when
    /// given, is the stream session told of its outcome.
    pub(crate) fn make_request(
        &mut self,
        p: &Principal,
        name: String,
        value: Value,
        now: Millis,
        conn: Option<ConnId>,
    ) -> Result<u64, ApiError> {
        let requests = vec![(name, value)];
        self.check_requests(p, &requests)?;
        let commit = self
            .registry
            .plan_request_changes(now, self.limits.request_ttl_ms, requests);
        let id = commit.meta.next_request_id;
        if let Some(conn) = conn {
            self.sessions.requesters.insert(id, conn);
        }
        if let Err(e) = self.commit_requests(commit, now) {
            self.sessions.requesters.remove(&id);
            return Err(e);
        }
        if let Some((conn, s)) = conn.and_then(|c| Some(c).zip(self.sessions.map.get_mut(&c))) {
            s.requested.insert(id);
            self.sessions.dirty.insert(conn);
        }
        Ok(id)
    }

    /// The bounds of new change requests, each written once: a request must be one its
    /// provider could apply (name and value within an entry's size), and a registry holds at
    /// most `max_pending_requests` of them, `max_pending_request_bytes` in all.
    pub(crate) fn check_requests(
        &self,
        p: &Principal,
        requests: &[(String, Value)],
    ) -> Result<(), ApiError> {
        for (name, _) in requests {
            crate::auth::check(p, Action::RequestCreate, name)?;
        }
        let mut bytes = 0usize;
        for (name, value) in requests {
            let size = name.len() + crate::write::checks::json_len(value);
            if size > self.limits.max_entry_bytes {
                return Err(ApiError::too_large(format!(
                    "change request for {name:?} is {size} bytes, over the limit of {} bytes",
                    self.limits.max_entry_bytes
                )));
            }
            bytes += size;
        }
        let added = self
            .registry
            .new_request_count(requests.iter().map(|(n, _)| n));
        if self.registry.pending_requests() + added > self.limits.max_pending_requests
            || self.registry.pending_request_bytes() + bytes > self.limits.max_pending_request_bytes
        {
            return Err(ApiError::capacity(format!(
                "too many pending change requests (limit {} requests, {} bytes); providers \
                 must take some first",
                self.limits.max_pending_requests, self.limits.max_pending_request_bytes
            )));
        }
        Ok(())
    }

    /// Commits new change requests; those for names a stream session provides are handed to
    /// it in the same commit (delivered), the others wait for a provider's poll.
    pub(crate) fn commit_requests(
        &mut self,
        mut commit: Commit,
        now: Millis,
    ) -> Result<(), ApiError> {
        let mut handed = Vec::new();
        if !self.sessions.providers.is_empty() {
            let (give, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut commit.put_requests)
                .into_iter()
                .partition(|r| self.sessions.provider_of(&r.name).is_some());
            commit.put_requests = keep;
            let until = now.saturating_add(self.limits.request_ttl_ms);
            for r in give {
                commit
                    .put_records
                    .push(record_of(&r, RequestStatus::Delivered, None, until));
                commit.requested.retain(|n| *n != r.name);
                if self.registry.pending_request(&r.name).is_some() {
                    commit.delete_requests.push(r.name.clone());
                }
                handed.push(r);
            }
        }
        self.commit(commit)?;
        for r in handed {
            self.send_request(&r);
        }
        Ok(())
    }

    /// A provider's verdict; with `apply`, the register takes the requested value in the same
    /// version (metadata and TTL kept; a new register gets the default TTL), as the provider's
    /// own write through the pipeline.
    pub(crate) fn verdict(
        &mut self,
        p: &Principal,
        id: u64,
        accept: bool,
        reason: Option<&str>,
        apply: bool,
        now: Millis,
    ) -> Result<RequestRecord, ApiError> {
        let (verdict, record) =
            self.registry
                .plan_verdict(id, accept, reason)
                .map_err(|e| match e {
                    VerdictError::Unknown(id) => unknown(id),
                    VerdictError::Finished(..) => {
                        ApiError::new(409, "request_finished", e.to_string())
                    }
                })?;
        crate::auth::check(p, Action::RequestVerdict, &record.name)?;
        let mut w = if apply {
            let current = self.registry.get(&record.name);
            let item = ProviderItem {
                name: record.name.clone(),
                value: record.value.clone(),
                metadata: current.map(|e| e.meta.clone()).unwrap_or_default(),
                ttl_ms: current.and_then(|e| e.ttl_ms),
            };
            self.plan_registers(p, vec![item], Intent::Verdict, Respond::Nothing)?
        } else {
            let mut w = Write::new(Intent::Verdict, ACTOR_PROVIDER, Respond::Nothing).by(p);
            w.extra.meta = self.registry.meta();
            w
        };
        w.extra.delete_requests.extend(verdict.delete_requests);
        w.extra.put_records.retain(|r| r.id != id);
        w.extra.put_records.extend(verdict.put_records);
        w.extra.resolved.retain(|r| *r != id);
        w.extra.resolved.extend(verdict.resolved);
        self.write(w, now)?;
        Ok(record)
    }

    /// `/v1/requests…` routes (`rest` is what follows `/v1/requests`).
    pub(crate) fn v1_requests(
        &mut self,
        p: &Principal,
        method: &str,
        rest: &str,
        query: &str,
        body: &[u8],
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        match (method, parts.as_slice()) {
            ("POST", [""]) => {
                let r: NewRequest = serde_json::from_slice(body)
                    .map_err(|e| ApiError::invalid_request(format!("request body: {e}")))?;
                let id = self.make_request(p, r.name, r.value, now, None)?;
                let record = self.registry.request(id).ok_or_else(|| unknown(id))?;
                Ok(Reply::Respond(HttpResponse::json(
                    202,
                    &record_json(&record),
                )))
            }
            ("GET", [id]) if !id.is_empty() => {
                let id = parse_id(id)?;
                let record = self.registry.request(id).ok_or_else(|| unknown(id))?;
                crate::auth::check(p, Action::RequestOutcome, &record.name)?;
                let params = parse_poll_params(query)?;
                if record.status.is_final() || params.wait_ms <= 0 {
                    return Ok(Reply::Respond(HttpResponse::json(
                        200,
                        &record_json(&record),
                    )));
                }
                let params = PollParams {
                    names: Some(vec![id.to_string()]),
                    ..params
                };
                self.hold(p, WaitKind::Outcome, params, now)
            }
            ("POST", [id, "verdict"]) => {
                let id = parse_id(id)?;
                let v: VerdictBody = serde_json::from_slice(body)
                    .map_err(|e| ApiError::invalid_request(format!("verdict body: {e}")))?;
                if v.apply && !v.accept {
                    return Err(ApiError::invalid_request("apply needs accept"));
                }
                let record = self.verdict(p, id, v.accept, v.reason.as_deref(), v.apply, now)?;
                let record = self.registry.request(record.id).unwrap_or(record);
                Ok(Reply::Respond(HttpResponse::json(
                    200,
                    &record_json(&record),
                )))
            }
            (_, [""]) | (_, [_]) | (_, [_, "verdict"]) => Err(ApiError::method_not_allowed(method)),
            _ => Err(ApiError::not_found(&format!("/v1/requests{rest}"))),
        }
    }

    /// The answer to a held `GET /v1/requests/{id}?wait=`: the request as it is now.
    pub(crate) fn outcome_response(
        &self,
        names: Option<&[String]>,
    ) -> Result<HttpResponse, ApiError> {
        let id = names
            .and_then(|n| n.first())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        let record = self.registry.request(id).ok_or_else(|| unknown(id))?;
        Ok(HttpResponse::json(200, &record_json(&record)))
    }

    /// Opens an SSE watch (`GET /v1/watch?name=…|where=…&since=…`) as a session of `conn`:
    /// its first messages are queued at once. `last_event_id` (the `Last-Event-ID` header)
    /// stands for `since` when the query has none.
    pub fn open_watch(
        &mut self,
        conn: ConnId,
        query: &str,
        last_event_id: Option<&str>,
        principal: &Principal,
        now: Millis,
    ) -> crate::effects::Step<Result<(), ApiError>> {
        let result = self.open_watch_inner(conn, query, last_event_id, principal, now);
        self.step(result)
    }

    fn open_watch_inner(
        &mut self,
        conn: ConnId,
        query: &str,
        last_event_id: Option<&str>,
        principal: &Principal,
        now: Millis,
    ) -> Result<(), ApiError> {
        self.recover()?;
        self.expire_due(now)?;
        let pairs = parse_pairs(query)?;
        let poll = parse_poll_params(query)?;
        let criteria: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == "where")
            .map(|(_, v)| v.clone())
            .collect();
        if poll.names.is_some() && !criteria.is_empty() {
            return Err(ApiError::invalid_request(
                "give names (name=, names=) or criteria (where=), not both",
            ));
        }
        let since = match (poll.since, last_event_id.map(str::trim)) {
            (Some(s), _) => Some(s),
            (None, Some(text)) if !text.is_empty() => Some(text.parse::<u64>().map_err(|_| {
                ApiError::new(
                    400,
                    "invalid_since",
                    format!("invalid Last-Event-ID {text:?}"),
                )
            })?),
            _ => None,
        };
        let spec = match poll.names {
            Some(names) => WatchSpec {
                names: Some(names),
                criteria: None,
            },
            None => WatchSpec {
                names: None,
                criteria: Some(criteria),
            },
        };
        self.open_session_inner(conn, false, principal)?;
        if let Err(e) = self.watch(conn, "sse", spec, since) {
            // Nothing was sent on this stream yet: its (unsaved) session simply ends.
            self.drop_session(conn);
            self.sessions.ephemeral.remove(&conn);
            return Err(e);
        }
        Ok(())
    }
}
