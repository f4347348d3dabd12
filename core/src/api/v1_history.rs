//! `/v1/versions`, `/v1/diff`, `/v1/state`, `/v1/rollback`: reading and restoring history.

use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::http::HttpResponse;
use super::query::parse_pairs;
use super::v1_entries::{entries_page, ids_after, limit_param, u64_param, where_criteria};
use crate::auth::Principal;
use crate::duration::Millis;
use crate::history::navigate::{self, Head, HistoryError};
use crate::history::{State, Version, ACTOR_ROLLBACK};
use crate::service::{Reply, Service};
use crate::store::Store;
use crate::write::{Intent, Respond, Write};

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::Unknown { .. } => ApiError::new(404, "unknown_version", e.to_string()),
            HistoryError::Folded { .. } => ApiError::new(410, "version_folded", e.to_string()),
            HistoryError::Store(s) => ApiError::storage(s),
            _ => ApiError::new(500, "history_corrupt", e.to_string()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    to: u64,
    #[serde(default)]
    if_version: Option<u64>,
}

fn required(pairs: &[(String, String)], key: &str) -> Result<u64, ApiError> {
    u64_param(pairs, key)?
        .ok_or_else(|| ApiError::new(400, "invalid_parameter", format!("{key} is required")))
}

impl<S: Store> Service<S> {
    fn with_head<T>(
        &self,
        f: impl FnOnce(&S, &Head<'_>) -> Result<T, HistoryError>,
    ) -> Result<T, ApiError> {
        let current = || self.registry.content_state();
        let head = Head {
            version: self.registry.head(),
            base: self.registry.meta().base,
            current: &current,
        };
        Ok(f(&self.store, &head)?)
    }

    /// The state at version `v` (history form: no runtime expiry).
    pub fn state_at(&self, v: u64) -> Result<State, ApiError> {
        self.with_head(|store, head| navigate::state_at(store, head, v))
    }

    /// The squashed changeset from `a` to `b`.
    pub fn diff(&self, a: u64, b: u64) -> Result<crate::history::Changeset, ApiError> {
        self.with_head(|store, head| navigate::diff(store, head, a, b))
    }

    /// One version with its changeset.
    pub fn version(&self, v: u64) -> Result<Version, ApiError> {
        let meta = self.registry.meta();
        if v == 0 || v > meta.head {
            return Err(HistoryError::Unknown {
                version: v,
                head: meta.head,
            }
            .into());
        }
        if v <= meta.base {
            // Version records up to the base were folded into the base checkpoint: the state
            // at the base stays readable, its record does not.
            return Err(ApiError::new(
                410,
                "version_folded",
                format!(
                    "version {v} was folded by retention: the oldest version record is {}",
                    meta.base + 1
                ),
            ));
        }
        let mut found = self.store.versions(v, v).map_err(ApiError::storage)?;
        found
            .pop()
            .ok_or_else(|| HistoryError::Corrupt(format!("version {v} is missing")).into())
    }

    /// `GET /v1/versions?before=&since=&limit=`: newest first, only versions `> since` and
    /// `< before`; `ops` counts the operations the principal may read.
    pub(crate) fn v1_versions(&self, p: &Principal, query: &str) -> Result<Reply, ApiError> {
        let pairs = parse_pairs(query)?;
        let limit = limit_param(&pairs, 50, 1_000)?;
        let before = u64_param(&pairs, "before")?.unwrap_or(u64::MAX);
        let since = u64_param(&pairs, "since")?.unwrap_or(0);
        let top = before.saturating_sub(1).min(self.registry.head());
        let mut versions = self
            .store
            .versions_desc(top, limit)
            .map_err(ApiError::storage)?;
        versions.retain(|v| v.version > since);
        let floor = self.registry.meta().base.max(since).saturating_add(1);
        let next = versions
            .last()
            .map(|v| v.version)
            .filter(|v| *v > floor && versions.len() == limit);
        let items: Vec<_> = versions
            .iter()
            .map(|v| {
                let ops = v.changeset.iter().filter(|op| p.may_read(&op.id)).count();
                json!({"version": v.version, "parent": v.parent, "timestamp": v.timestamp, "actor": v.actor, "ops": ops})
            })
            .collect();
        Ok(Reply::Respond(HttpResponse::json(
            200,
            &json!({"versions": items, "next_before": next, "oldest": self.registry.meta().base + 1, "head": self.registry.head()}),
        )))
    }

    /// `GET /v1/versions/{v}`: its changeset shows the operations the principal may read (a
    /// version whose operations are all outside its scope shows none).
    pub(crate) fn v1_version(&self, p: &Principal, v: &str) -> Result<Reply, ApiError> {
        let v: u64 = v.parse().map_err(|_| {
            ApiError::new(
                400,
                "invalid_parameter",
                format!("version must be an unsigned integer, got {v:?}"),
            )
        })?;
        let mut version = self.version(v)?;
        version.changeset.retain(|op| p.may_read(&op.id));
        Ok(Reply::Respond(HttpResponse::json(200, &json!(version))))
    }

    /// `GET /v1/diff?from=&to=`: the operations the principal may read.
    pub(crate) fn v1_diff(&self, p: &Principal, query: &str) -> Result<Reply, ApiError> {
        let pairs = parse_pairs(query)?;
        let (from, to) = (required(&pairs, "from")?, required(&pairs, "to")?);
        let mut changeset = self.diff(from, to)?;
        changeset.retain(|op| p.may_read(&op.id));
        Ok(Reply::Respond(HttpResponse::json(
            200,
            &json!({"from": from, "to": to, "changeset": changeset}),
        )))
    }

    /// `GET /v1/state?at=&where=…&limit=&cursor=`: the entries the principal may read.
    pub(crate) fn v1_state(&mut self, p: &Principal, query: &str) -> Result<Reply, ApiError> {
        let pairs = parse_pairs(query)?;
        let at = required(&pairs, "at")?;
        let criteria = where_criteria(query)?;
        let state = self.state_at(at)?;
        let extra = [("at", json!(at))];
        if criteria.is_empty() {
            let after = |c: Option<&str>| {
                use std::ops::Bound::{Excluded, Unbounded};
                let from = c.map_or(Unbounded, Excluded);
                state
                    .range::<str, _>((from, Unbounded))
                    .map(|(_, e)| e)
                    .filter(|e| p.may_read(&e.id))
            };
            return entries_page(after, query, &extra).map(Reply::Respond);
        }
        // The query runs over the whole state (its results are cached for every reader), and
        // is filtered afterwards.
        let ids = self.queries.find(at, &criteria, state.values())?;
        let entries = |c: Option<&str>| {
            ids_after(&ids, c)
                .filter(|id| p.may_read(id))
                .filter_map(|id| state.get(id))
        };
        entries_page(entries, query, &extra).map(Reply::Respond)
    }

    /// `POST /v1/rollback {"to": v}`: a new version whose changeset is
    /// `delta(current, state_at(v))`; nothing happens when they are already equal.
    pub(crate) fn v1_rollback(
        &mut self,
        p: &Principal,
        body: &[u8],
        now: Millis,
    ) -> Result<Reply, ApiError> {
        // Before reading history: a refusal must not depend on what the registry holds.
        crate::write::checks::scope_of(p, Intent::Rollback, [])?;
        let body: RollbackBody = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_request(format!("rollback body: {e}")))?;
        let ops =
            self.with_head(|store, head| navigate::rollback_changeset(store, head, body.to))?;
        let mut w = Write::new(
            Intent::Rollback,
            ACTOR_ROLLBACK,
            Respond::Rollback { to: body.to },
        )
        .by(p);
        w.if_head = body.if_version;
        w.ops = ops;
        self.write(w, now)
    }
}
