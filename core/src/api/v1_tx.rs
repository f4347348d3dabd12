//! `POST /v1/tx` (atomic multi-entry transactions), `GET/PUT /v1/config`, and
//! `GET /v1/entries/{id}/dependencies`.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, Reason};
use super::http::HttpResponse;
use super::v1_entries::{validate_kind, ACTOR_API};
use crate::duration::{nanos_to_millis_ceil, parse_go_duration, Millis};
use crate::entry::{Entry, Meta};
use crate::history::{same_content, Op};
use crate::registry::history_entry;
use crate::registry_config::{Config, RegistryConfig, CONFIG_ID, CONFIG_KIND};
use crate::service::{Reply, Service};
use crate::store::Store;

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum TxOpKind {
    Create,
    Update,
    Upsert,
    Delete,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TxOp {
    op: TxOpKind,
    id: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    meta: Option<Meta>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    ttl: Option<String>,
    #[serde(default)]
    if_version: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TxBody {
    ops: Vec<TxOp>,
    #[serde(default)]
    if_version: Option<u64>,
}

fn reason(op: Option<usize>, id: Option<&str>, text: String) -> Reason {
    Reason {
        op,
        id: id.map(str::to_string),
        listener: None,
        reason: text,
    }
}

fn bad_op(i: usize, text: impl Into<String>) -> ApiError {
    ApiError::invalid_request(format!("operation {i}: {}", text.into()))
}

/// The entry a create/update/upsert writes (without version and expiry).
fn new_entry(i: usize, t: &TxOp) -> Result<Entry, ApiError> {
    let kind = t
        .kind
        .clone()
        .ok_or_else(|| bad_op(i, "kind is required"))?;
    validate_kind(&kind).map_err(|e| bad_op(i, e.message))?;
    let data = t
        .data
        .clone()
        .ok_or_else(|| bad_op(i, "data is required"))?;
    let ttl_ms = match &t.ttl {
        None => None,
        Some(text) => {
            let ms = parse_go_duration(text)
                .map(nanos_to_millis_ceil)
                .map_err(|e| bad_op(i, format!("ttl: {e}")))?;
            if ms <= 0 {
                return Err(bad_op(i, format!("ttl must be positive, got {text:?}")));
            }
            Some(ms as u64)
        }
    };
    Ok(Entry {
        id: t.id.clone(),
        kind,
        meta: t.meta.clone().unwrap_or_default(),
        data,
        ttl_ms,
        expires_at: None,
        version: 0,
    })
}

impl<S: Store> Service<S> {
    /// `POST /v1/tx`: every operation applies as one version, or none does. Conflicts (409)
    /// and rejections (422) list every reason.
    pub(crate) fn v1_tx(&mut self, body: &[u8], now: Millis) -> Result<Reply, ApiError> {
        let tx: TxBody = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_request(format!("transaction body: {e}")))?;
        let max = self.config.stored.max_ops;
        if tx.ops.len() > max {
            return Err(ApiError::too_large(format!(
                "{} operations in one transaction, over the limit of {max}",
                tx.ops.len()
            )));
        }
        let mut seen = HashSet::new();
        for (i, t) in tx.ops.iter().enumerate() {
            if !seen.insert(t.id.as_str()) {
                return Err(bad_op(
                    i,
                    format!("{:?} appears more than once in the transaction", t.id),
                ));
            }
            if t.id == CONFIG_ID {
                return Err(reserved(&t.id));
            }
            if t.op == TxOpKind::Delete
                && (t.kind.is_some() || t.data.is_some() || t.meta.is_some() || t.ttl.is_some())
            {
                return Err(bad_op(i, "a delete takes only id and if_version"));
            }
        }
        // Conflicts, all of them.
        let mut conflicts = Vec::new();
        if let Some(expected) = tx.if_version {
            if expected != self.registry.head() {
                conflicts.push(reason(
                    None,
                    None,
                    format!(
                        "the registry is at version {}, not {expected}",
                        self.registry.head()
                    ),
                ));
            }
        }
        for (i, t) in tx.ops.iter().enumerate() {
            let current = self.registry.get(&t.id);
            let actual = current.map_or(0, |e| e.version);
            match (t.op, current) {
                (TxOpKind::Create, Some(_)) => conflicts.push(reason(
                    Some(i),
                    Some(&t.id),
                    format!("cannot create {:?}: it exists", t.id),
                )),
                (TxOpKind::Update | TxOpKind::Delete, None) => conflicts.push(reason(
                    Some(i),
                    Some(&t.id),
                    format!("{:?} does not exist", t.id),
                )),
                _ => {}
            }
            if let Some(expected) = t.if_version {
                if expected != actual {
                    conflicts.push(reason(
                        Some(i),
                        Some(&t.id),
                        format!("{:?} is at version {actual}, not {expected}", t.id),
                    ));
                }
            }
        }
        // Malformed operations are 400 before conflicts are reported.
        let mut ops = Vec::with_capacity(tx.ops.len());
        for (i, t) in tx.ops.iter().enumerate() {
            let current = self.registry.get(&t.id).map(history_entry);
            if t.op == TxOpKind::Delete {
                if let Some(b) = current {
                    ops.push(Op::delete(b));
                }
                continue;
            }
            let entry = new_entry(i, t)?;
            let size = serde_json::to_vec(&entry.data).map_or(0, |v| v.len())
                + serde_json::to_vec(&entry.meta).map_or(0, |v| v.len())
                + entry.id.len();
            if size > self.limits.max_entry_bytes {
                return Err(ApiError::too_large(format!(
                    "operation {i}: entry {:?} is {size} bytes, over the limit of {} bytes",
                    t.id, self.limits.max_entry_bytes
                )));
            }
            match current {
                Some(b) if same_content(&b, &entry) => {}
                Some(b) => ops.push(Op::update(b, entry)),
                None => ops.push(Op::create(entry)),
            }
        }
        if !conflicts.is_empty() {
            return Err(ApiError::refused(409, "conflict", conflicts));
        }
        let created = ops
            .iter()
            .filter(|o| o.op == crate::history::OpKind::Create)
            .count();
        let deleted = ops
            .iter()
            .filter(|o| o.op == crate::history::OpKind::Delete)
            .count();
        if self.registry.len() + created > self.limits.max_entries + deleted {
            return Err(ApiError::capacity(format!(
                "the registry holds its maximum of {} entries",
                self.limits.max_entries
            )));
        }
        let ordered = self.order_ops(ops)?;
        let order = tx.ops.into_iter().map(|t| t.id).collect();
        self.finish_ops(ordered, order, crate::validators::Respond::Tx, now)
    }

    /// `GET /v1/config`.
    pub(crate) fn v1_get_config(&self) -> Result<Reply, ApiError> {
        let version = self.registry.get(CONFIG_ID).map_or(0, |e| e.version);
        Ok(Reply::Respond(HttpResponse::json(
            200,
            &json!({"config": self.config.stored, "version": version}),
        )))
    }

    /// `PUT /v1/config`: validates, then writes the configuration entry (one version).
    pub(crate) fn v1_put_config(&mut self, body: &[u8], now: Millis) -> Result<Reply, ApiError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            config: RegistryConfig,
            #[serde(default)]
            if_version: Option<u64>,
        }
        let body: Body = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_request(format!("config body: {e}")))?;
        Config::from_stored(body.config.clone())
            .map_err(|e| ApiError::new(400, "invalid_config", e))?;
        let current = self.registry.get(CONFIG_ID).map(history_entry);
        if let Some(expected) = body.if_version {
            let actual = current.as_ref().map_or(0, |e| e.version);
            if expected != actual {
                return Err(ApiError::new(409, "version_conflict", format!("the configuration is at version {actual}, not {expected}; nothing was written")));
            }
        }
        let entry = Entry {
            id: CONFIG_ID.into(),
            kind: CONFIG_KIND.into(),
            meta: Meta::new(),
            data: serde_json::to_value(&body.config).expect("config serializes"),
            ttl_ms: None,
            expires_at: None,
            version: 0,
        };
        let op = match current {
            Some(b) if same_content(&b, &entry) => None,
            Some(b) => Some(Op::update(b, entry)),
            None => Some(Op::create(entry)),
        };
        if let Some(op) = op {
            let commit = self.registry.plan_changeset(now, ACTOR_API, vec![op]);
            self.commit(commit)?;
        }
        self.v1_get_config()
    }

    /// `GET /v1/entries/{id}/dependencies`: what it needs and what needs it.
    pub(crate) fn v1_dependencies(&self, id: &str) -> Result<Reply, ApiError> {
        if self.registry.get(id).is_none() {
            return Err(ApiError::new(
                404,
                "entry_not_found",
                format!("no entry {id:?}"),
            ));
        }
        let needs: Vec<Value> = self
            .deps
            .needs(id)
            .into_iter()
            .map(|d| json!({"id": d, "exists": self.registry.get(&d).is_some()}))
            .collect();
        Ok(Reply::Respond(HttpResponse::json(
            200,
            &json!({"id": id, "needs": needs, "needed_by": self.deps.needed_by(id)}),
        )))
    }
}

/// The configuration entry is written through `/v1/config` only.
pub fn reserved(id: &str) -> ApiError {
    ApiError::new(
        409,
        "reserved",
        format!("{id:?} is the registry configuration: write it through /v1/config"),
    )
}
