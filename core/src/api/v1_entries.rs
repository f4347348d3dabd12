//! `/v1/entries`: read, write and delete entries with optimistic concurrency (`if_version`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::http::HttpResponse;
use super::query::parse_pairs;
use crate::duration::{nanos_to_millis_ceil, parse_go_duration, Millis};
use crate::entry::{Entry, Meta};
use crate::history::Op;
use crate::service::{Reply, Service};
use crate::store::Store;

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

/// Kinds are dot-separated segments of `A-Z a-z 0-9 _ -` (`register`, `ns.dependency`).
pub fn validate_kind(kind: &str) -> Result<(), ApiError> {
    let ok = !kind.is_empty()
        && kind.len() <= 128
        && kind.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "invalid_kind",
            format!("invalid kind {kind:?}: use dot-separated segments of A-Z a-z 0-9 _ -"),
        ))
    }
}

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
    pub(crate) fn v1_list_entries(&mut self, query: &str) -> Result<Reply, ApiError> {
        let head = json!(self.registry.head());
        let criteria = where_criteria(query)?;
        if criteria.is_empty() {
            let registry = &self.registry;
            return entries_page(|c| registry.entries_after(c), query, &[("version", head)])
                .map(Reply::Respond);
        }
        let ids = self.find(&criteria)?;
        let registry = &self.registry;
        let entries = |c: Option<&str>| ids_after(&ids, c).filter_map(|id| registry.get(id));
        entries_page(entries, query, &[("version", head)]).map(Reply::Respond)
    }

    /// `GET /v1/entries/{id}`.
    pub(crate) fn v1_get_entry(&self, id: &str) -> Result<Reply, ApiError> {
        let e = self.registry.get(id).ok_or_else(|| entry_not_found(id))?;
        Ok(Reply::Respond(HttpResponse::json(200, &json!(e))))
    }

    /// `PUT /v1/entries/{id}`: create (201) or update (200) one entry as one version.
    pub(crate) fn v1_put_entry(
        &mut self,
        id: &str,
        body: &[u8],
        now: Millis,
    ) -> Result<Reply, ApiError> {
        if id == crate::registry_config::CONFIG_ID {
            return Err(super::v1_tx::reserved(id));
        }
        let put: PutEntry = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_request(format!("entry body: {e}")))?;
        validate_kind(&put.kind)?;
        let ttl_ms = match &put.ttl {
            None => None,
            Some(t) => {
                let ms = parse_go_duration(t)
                    .map(nanos_to_millis_ceil)
                    .map_err(|e| ApiError::invalid_request(format!("ttl: {e}")))?;
                if ms <= 0 {
                    return Err(ApiError::invalid_request(format!(
                        "ttl must be positive, got {t:?}"
                    )));
                }
                Some(ms as u64)
            }
        };
        let current = self.registry.get(id);
        check_if_version(id, current, put.if_version)?;
        let entry = Entry {
            id: id.to_string(),
            kind: put.kind,
            meta: put.meta.unwrap_or_default(),
            data: put.data,
            ttl_ms,
            expires_at: None,
            version: 0,
        };
        let size = serde_json::to_vec(&entry.data).map_or(0, |v| v.len())
            + serde_json::to_vec(&entry.meta).map_or(0, |v| v.len())
            + id.len();
        if size > self.limits.max_entry_bytes {
            return Err(ApiError::too_large(format!(
                "entry {id:?} is {size} bytes, over the limit of {} bytes",
                self.limits.max_entry_bytes
            )));
        }
        let created = current.is_none();
        if created && self.registry.len() >= self.limits.max_entries {
            return Err(ApiError::capacity(format!(
                "the registry holds its maximum of {} entries",
                self.limits.max_entries
            )));
        }
        let unchanged = current.is_some_and(|c| crate::history::same_content(c, &entry));
        let op = if unchanged {
            // Same content: only the expiry is renewed; no version.
            self.commit(self.registry.plan_refresh(id, now))?;
            None
        } else {
            Some(if created {
                Op::create(entry)
            } else {
                Op::update(
                    crate::registry::history_entry(current.expect("present")),
                    entry,
                )
            })
        };
        if let Some(op) = op {
            let respond = crate::validators::Respond::Put {
                id: id.to_string(),
                created,
            };
            return self.finish_ops(vec![op], vec![id.to_string()], respond, now);
        }
        let e = self.registry.get(id).expect("just written");
        Ok(Reply::Respond(HttpResponse::json(
            if created { 201 } else { 200 },
            &json!(e),
        )))
    }

    /// `DELETE /v1/entries/{id}?if_version=`.
    pub(crate) fn v1_delete_entry(
        &mut self,
        id: &str,
        query: &str,
        now: Millis,
    ) -> Result<Reply, ApiError> {
        if id == crate::registry_config::CONFIG_ID {
            return Err(super::v1_tx::reserved(id));
        }
        let pairs = parse_pairs(query)?;
        let if_version = u64_param(&pairs, "if_version")?;
        let current = self.registry.get(id).ok_or_else(|| entry_not_found(id))?;
        check_if_version(id, Some(current), if_version)?;
        let ops = vec![Op::delete(crate::registry::history_entry(current))];
        let respond = crate::validators::Respond::Delete;
        self.finish_ops(ops, vec![id.to_string()], respond, now)
    }
}

fn entry_not_found(id: &str) -> ApiError {
    ApiError::new(404, "entry_not_found", format!("no entry {id:?}"))
}

/// `if_version`: 0 = the entry must not exist; n = its version must be n.
fn check_if_version(
    id: &str,
    current: Option<&Entry>,
    expected: Option<u64>,
) -> Result<(), ApiError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let actual = current.map_or(0, |e| e.version);
    if actual == expected {
        Ok(())
    } else {
        Err(ApiError::new(
            409,
            "version_conflict",
            format!("entry {id:?} is at version {actual}, not {expected}; nothing was written"),
        ))
    }
}
