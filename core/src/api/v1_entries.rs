//! `/v1/entries`: read, write and delete entries with optimistic concurrency (`if_version`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::http::HttpResponse;
use super::query::parse_pairs;
use super::v1_tx::{TxOp, TxOpKind};
use crate::auth::Principal;
use crate::duration::Millis;
use crate::entry::{Entry, Meta};
use crate::service::{Reply, Service};
use crate::store::Store;
use crate::write::Respond;

/// Actor of versions written through `/v1`.
pub const ACTOR_API: &str = "api";

/// Body of `PUT /v1/entries/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutEntry {
    kind: String,
    #[serde(default)]
    meta: Option<Meta>,
    data: Value,
    #[serde(default)]
    ttl: Option<String>,
    #[serde(default)]
    if_version: Option<u64>,
}

pub use crate::write::checks::validate_kind;

/// Parses an optional unsigned integer query parameter.
pub fn u64_param(pairs: &[(String, String)], key: &str) -> Result<Option<u64>, ApiError> {
    match pairs.iter().find(|(k, _)| k == key) {
        None => Ok(None),
        Some((_, v)) => v.parse::<u64>().map(Some).map_err(|_| {
            ApiError::new(
                400,
                "invalid_parameter",
                format!("{key} must be an unsigned integer, got {v:?}"),
            )
        }),
    }
}

/// `limit` (1..=max, default `dflt`).
pub fn limit_param(pairs: &[(String, String)], dflt: usize, max: usize) -> Result<usize, ApiError> {
    match u64_param(pairs, "limit")? {
        None => Ok(dflt),
        Some(n) if n >= 1 && n <= max as u64 => Ok(n as usize),
        Some(n) => Err(ApiError::new(
            400,
            "invalid_parameter",
            format!("limit must be 1..={max}, got {n}"),
        )),
    }
}

/// The `where` criteria of a query string (none = no filter).
pub fn where_criteria(query: &str) -> Result<Vec<crate::query::parse::Criterion>, ApiError> {
    let pairs = parse_pairs(query)?;
    let texts: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "where")
        .map(|(_, v)| v.as_str())
        .collect();
    Ok(crate::query::parse::parse_criteria(&texts)?)
}

/// The ids of a sorted list above `cursor` (all when there is none).
pub fn ids_after<'a>(ids: &'a [String], cursor: Option<&str>) -> std::slice::Iter<'a, String> {
    let start = cursor.map_or(0, |c| ids.partition_point(|id| id.as_str() <= c));
    ids[start..].iter()
}

/// A page of entries in id order after `cursor`: `{"entries":[…],"next_cursor":…}`.
/// `entries_after(cursor)` yields the entries in id order with ids above the cursor (all when
/// there is none), straight from an ordered source rather than by skipping.
pub fn entries_page<'a, I: Iterator<Item = &'a Entry>>(
    entries_after: impl FnOnce(Option<&str>) -> I,
    query: &str,
    extra: &[(&str, Value)],
) -> Result<HttpResponse, ApiError> {
    let pairs = parse_pairs(query)?;
    let limit = limit_param(&pairs, 100, 1_000)?;
    let cursor = pairs
        .iter()
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v.as_str());
    let mut page: Vec<&Entry> = entries_after(cursor).take(limit + 1).collect();
    let next = if page.len() > limit {
        page.truncate(limit);
        page.last().map(|e| Value::String(e.id.clone()))
    } else {
        None
    };
    let mut doc = json!({ "entries": page, "next_cursor": next });
    for (k, v) in extra {
        doc[*k] = v.clone();
    }
    Ok(HttpResponse::json(200, &doc))
}

impl<S: Store> Service<S> {
    /// `GET /v1/entries?where=…&limit=&cursor=`: entries in id order, filtered by the query
    /// engine when `where` criteria are given.
    /// Entries the principal may not read are left out.
    pub(crate) fn v1_list_entries(
        &mut self,
        p: &Principal,
        query: &str,
    ) -> Result<Reply, ApiError> {
        let head = json!(self.registry.head());
        let criteria = where_criteria(query)?;
        if criteria.is_empty() {
            let registry = &self.registry;
            let entries = |c: Option<&str>| registry.entries_after(c).filter(|e| p.may_read(&e.id));
            return entries_page(entries, query, &[("version", head)]).map(Reply::Respond);
        }
        let ids = self.find(&criteria)?;
        let registry = &self.registry;
        let entries = |c: Option<&str>| {
            ids_after(&ids, c)
                .filter(|id| p.may_read(id))
                .filter_map(|id| registry.get(id))
        };
        entries_page(entries, query, &[("version", head)]).map(Reply::Respond)
    }

    /// `GET /v1/entries/{id}`.
    pub(crate) fn v1_get_entry(&self, id: &str) -> Result<Reply, ApiError> {
        let e = self.registry.get(id).ok_or_else(|| entry_not_found(id))?;
        Ok(Reply::Respond(HttpResponse::json(200, &json!(e))))
    }

    /// `PUT /v1/entries/{id}`: create (201) or update (200) one entry as one version — a
    /// one-operation transaction (`upsert`).
    pub(crate) fn v1_put_entry(
        &mut self,
        p: &Principal,
        id: &str,
        body: &[u8],
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let put: PutEntry = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_request(format!("entry body: {e}")))?;
        let created = self.registry.get(id).is_none();
        let op = TxOp {
            op: TxOpKind::Upsert,
            id: id.to_string(),
            kind: Some(put.kind),
            meta: put.meta,
            data: Some(put.data),
            ttl: put.ttl,
            if_version: put.if_version,
        };
        let respond = Respond::Put {
            id: id.to_string(),
            created,
        };
        let w = self.plan_tx(p, vec![op], None, respond)?;
        self.write(w, now)
    }

    /// `DELETE /v1/entries/{id}?if_version=`: a one-operation transaction (`delete`).
    pub(crate) fn v1_delete_entry(
        &mut self,
        p: &Principal,
        id: &str,
        query: &str,
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let pairs = parse_pairs(query)?;
        let if_version = u64_param(&pairs, "if_version")?;
        if id != crate::registry_config::CONFIG_ID && self.registry.get(id).is_none() {
            return Err(entry_not_found(id));
        }
        let op = TxOp {
            op: TxOpKind::Delete,
            id: id.to_string(),
            kind: None,
            meta: None,
            data: None,
            ttl: None,
            if_version,
        };
        let w = self.plan_tx(p, vec![op], None, Respond::Delete)?;
        self.write(w, now)
    }
}

fn entry_not_found(id: &str) -> ApiError {
    ApiError::new(404, "entry_not_found", format!("no entry {id:?}"))
}
