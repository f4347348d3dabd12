//! `POST /v1/tx` (atomic multi-entry transactions), `GET/PUT /v1/config`, and
//! `GET /v1/entries/{id}/dependencies`.

use crate::auth::Principal;
use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::http::HttpResponse;
use super::v1_entries::ACTOR_API;
use crate::duration::Millis;
use crate::entry::{Entry, Meta};
use crate::history::{same_content, Op};
use crate::registry::history_entry;
use crate::registry_config::{Config, RegistryConfig, CONFIG_ID, CONFIG_KIND};
use crate::service::{Reply, Service};
use crate::store::Store;
use crate::write::checks::ttl_text;
use crate::write::{Intent, Respond, Write};

/// What a transaction operation does.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TxOpKind {
    Create,
    Update,
    Upsert,
    Delete,
}

/// One operation of a transaction as a client sends it (`PUT`/`DELETE /v1/entries/{id}` are
/// one-operation transactions).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TxOp {
    pub(crate) op: TxOpKind,
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) meta: Option<Meta>,
    /// `null` is a value (SPEC §3): present-but-null is `Some(Value::Null)`.
    #[serde(default, deserialize_with = "present")]
    pub(crate) data: Option<Value>,
    #[serde(default)]
    pub(crate) ttl: Option<String>,
    #[serde(default)]
    pub(crate) if_version: Option<u64>,
}

/// A field that is present, whatever its value (`null` included).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TxBody {
    ops: Vec<TxOp>,
    #[serde(default)]
    if_version: Option<u64>,
}

fn bad_op(i: usize, text: impl Into<String>) -> ApiError {
    ApiError::invalid_request(format!("operation {i}: {}", text.into()))
}

/// The entry a create/update/upsert writes (without version and expiry).
fn new_entry(i: usize, t: &mut TxOp) -> Result<Entry, ApiError> {
    // Taken, not copied: the operation is not read for its kind, meta or data again.
    let kind = t.kind.take().ok_or_else(|| bad_op(i, "kind is required"))?;
    let data = t.data.take().ok_or_else(|| bad_op(i, "data is required"))?;
    let ttl_ms = match &t.ttl {
        None => None,
        Some(text) => Some(ttl_text(text).map_err(|e| bad_op(i, e))?),
    };
    Ok(Entry {
        id: t.id.clone(),
        kind,
        meta: t.meta.take().unwrap_or_default(),
        data,
        ttl_ms,
        expires_at: None,
        version: 0,
    })
}

impl<S: Store> Service<S> {
    /// `POST /v1/tx`: every operation applies as one version, or none does. Conflicts (409)
    /// and rejections (422) list every reason.
    pub(crate) fn v1_tx(
        &mut self,
        p: &Principal,
        body: &[u8],
        now: Millis,
    ) -> Result<Reply, ApiError> {
        let tx: TxBody = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_request(format!("transaction body: {e}")))?;
        let max = self.config.stored.max_ops;
        if tx.ops.len() > max {
            return Err(ApiError::too_large(format!(
                "{} operations in one transaction, over the limit of {max}",
                tx.ops.len()
            )));
        }
        let w = self.plan_tx(p, tx.ops, tx.if_version, Respond::Tx)?;
        self.write(w, now)
    }

    /// Plans transaction operations as one write of the `Entries` intent: each id once, the
    /// configuration entry only through `/v1/config`, conflicts with the current state
    /// collected (all of them: a create of an existing entry, an update or delete of a
    /// missing one); unchanged entries are only refreshed.
    pub(crate) fn plan_tx(
        &self,
        p: &Principal,
        ops: Vec<TxOp>,
        if_version: Option<u64>,
        respond: Respond,
    ) -> Result<Write, ApiError> {
        let mut w = Write::new(Intent::Entries, ACTOR_API, respond).by(p);
        w.if_head = if_version;
        // Out of scope is refused first: no later answer may tell what exists there.
        crate::write::checks::scope_of(p, Intent::Entries, ops.iter().map(|t| &t.id))?;
        let mut seen = HashSet::new();
        for (i, t) in ops.iter().enumerate() {
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
        w.order = ops.iter().map(|t| t.id.clone()).collect();
        let mut conflicts = Vec::new();
        for (i, mut t) in ops.into_iter().enumerate() {
            let current = self.registry.get(&t.id);
            if let Some(expected) = t.if_version {
                w.if_versions.push((t.id.clone(), expected));
            }
            let exists = match (t.op, current) {
                (TxOpKind::Create, Some(_)) => Some(format!("cannot create {:?}: it exists", t.id)),
                (TxOpKind::Update | TxOpKind::Delete, None) => {
                    Some(format!("{:?} does not exist", t.id))
                }
                _ => None,
            };
            if t.op == TxOpKind::Delete {
                if let Some(b) = current {
                    w.ops.push(Op::delete(history_entry(b)));
                }
            } else {
                let entry = new_entry(i, &mut t)?;
                match current {
                    _ if exists.is_some() => {
                        // Refused as a conflict, after the entry checks (malformed first).
                        let what = || format!("operation {i}: entry {:?}", t.id);
                        crate::write::checks::entry(&entry, &self.limits, what)?;
                    }
                    Some(b) if same_content(b, &entry) => w.refresh.push(t.id.clone()),
                    Some(b) => w.ops.push(Op::update(history_entry(b), entry)),
                    None => w.ops.push(Op::create(entry)),
                }
            }
            if let Some(text) = exists {
                conflicts.push(crate::write::checks::reason(&w, Some(&t.id), text));
            }
        }
        w.conflicts = conflicts;
        Ok(w)
    }

    /// `GET /v1/config`.
    pub(crate) fn v1_get_config(&self) -> Result<Reply, ApiError> {
        Ok(Reply::Respond(self.config_response()))
    }

    /// The configuration in force and the version of its entry.
    pub(crate) fn config_response(&self) -> HttpResponse {
        let version = self.registry.get(CONFIG_ID).map_or(0, |e| e.version);
        HttpResponse::json(
            200,
            &json!({"config": self.config.stored, "version": version}),
        )
    }

    /// `PUT /v1/config`: validates, then writes the configuration entry (one version).
    pub(crate) fn v1_put_config(
        &mut self,
        p: &Principal,
        body: &[u8],
        now: Millis,
    ) -> Result<Reply, ApiError> {
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
        let entry = Entry {
            id: CONFIG_ID.into(),
            kind: CONFIG_KIND.into(),
            meta: Meta::new(),
            data: serde_json::to_value(&body.config).expect("config serializes"),
            ttl_ms: None,
            expires_at: None,
            version: 0,
        };
        let mut w = Write::new(Intent::Config, ACTOR_API, Respond::Config).by(p);
        w.order.push(CONFIG_ID.into());
        if let Some(expected) = body.if_version {
            w.if_versions.push((CONFIG_ID.into(), expected));
        }
        match current {
            Some(b) if same_content(&b, &entry) => {}
            Some(b) => w.ops.push(Op::update(b, entry)),
            None => w.ops.push(Op::create(entry)),
        }
        self.write(w, now)
    }

    /// `GET /v1/entries/{id}/dependencies`: what it needs and what needs it.
    /// Ids the principal may not read are left out.
    pub(crate) fn v1_dependencies(&self, p: &Principal, id: &str) -> Result<Reply, ApiError> {
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
            .filter(|d| p.may_read(d))
            .map(|d| json!({"id": d, "exists": self.registry.get(&d).is_some()}))
            .collect();
        let mut needed_by = self.deps.needed_by(id);
        needed_by.retain(|d| p.may_read(d));
        Ok(Reply::Respond(HttpResponse::json(
            200,
            &json!({"id": id, "needs": needs, "needed_by": needed_by}),
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
