//! The data model: entries (SPEC §3). A register is an entry seen through the register API.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::duration::Millis;

/// The kind given to entries written through the register API.
pub const REGISTER_KIND: &str = "register";

/// A JSON object (the type of `meta`).
pub type Meta = Map<String, Value>;

/// One named value of a registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// `ns:name`; any string is a valid id (the namespace is the part before the first `:`).
    pub id: String,
    /// Dot-segmented kind, `register` for register API writes.
    pub kind: String,
    /// Metadata (a register's `metadata`); an empty object when there is none.
    #[serde(default)]
    pub meta: Meta,
    /// The value (a register's `value`); `null` is a value.
    #[serde(default)]
    pub data: Value,
    /// Time to live, when the entry expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<Millis>,
    /// The instant at which the entry expires (exclusive of anything later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Millis>,
    /// The registry version at which the entry last changed (value, meta or kind).
    pub version: u64,
}

impl Entry {
    /// The namespace: the part of the id before the first `:`, empty if there is none.
    pub fn namespace(&self) -> &str {
        split_id(&self.id).0
    }

    /// The name: the part of the id after the first `:`, or the whole id.
    pub fn name(&self) -> &str {
        split_id(&self.id).1
    }

    /// Whether `other` has the same content (kind, meta, data); TTL and version are not content.
    pub fn same_content(&self, kind: &str, meta: &Meta, data: &Value) -> bool {
        self.kind == kind && &self.meta == meta && &self.data == data
    }
}

/// Splits an id into namespace and name at the first `:`.
///
/// ```
/// use registry_core::entry::split_id;
/// assert_eq!(split_id("kitchen:temp"), ("kitchen", "temp"));
/// assert_eq!(split_id("temp"), ("", "temp"));
/// assert_eq!(split_id("a:b:c"), ("a", "b:c"));
/// ```
pub fn split_id(id: &str) -> (&str, &str) {
    match id.split_once(':') {
        Some((ns, name)) => (ns, name),
        None => ("", id),
    }
}

/// A change request from a consumer, waiting for a provider to take it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// The register the request is for (it need not exist).
    pub name: String,
    /// The requested value; `null` is a value.
    pub value: Value,
    /// A registry-wide sequence number.
    pub id: u64,
    /// When the request was made.
    pub created_at: Millis,
    /// When the request is dropped if no provider took it.
    pub expires_at: Millis,
}

/// Where a change request is in its life (SPEC §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    /// Waiting for a provider to take it.
    Pending,
    /// A provider took it; its verdict is awaited.
    Delivered,
    /// The provider accepted it.
    Accepted,
    /// The provider rejected it.
    Rejected,
    /// A newer request for the same register replaced it while it was pending.
    Superseded,
    /// No provider took it, or gave no verdict, in time.
    Expired,
}

impl RequestStatus {
    /// Whether the status can no longer change.
    pub fn is_final(self) -> bool {
        !matches!(self, RequestStatus::Pending | RequestStatus::Delivered)
    }
}

/// A change request that left the pending state: delivered (awaiting a verdict, until
/// `expires_at`) or finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The request id.
    pub id: u64,
    /// The register it is for.
    pub name: String,
    /// The requested value.
    pub value: Value,
    /// Its status.
    pub status: RequestStatus,
    /// The provider's reason (rejections), or why it expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When a delivered request expires without a verdict.
    pub expires_at: Millis,
}
