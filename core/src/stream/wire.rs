//! The stream protocol's messages, both directions, defined once (`docs/protocol.md`,
//! "Streams"). The server ([`crate::Service`]) decodes [`ClientMsg`] and encodes
//! [`ServerMsg`]; the web client encodes [`ClientMsg`] (with its `ref`, [`Outbound`]) and
//! decodes [`ServerMsg`]. Large payloads (entries, operations, values) are pre-serialized JSON
//! ([`RawValue`]): the server serializes the operations of a version once for every watch
//! that sees them, and the client hands them to JS without an intermediate tree.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::entry::Entry;
use crate::history::Op;

/// What a client sends. `V` is how JSON payloads (values, registers) are held: the server
/// decodes them as [`Value`]s, the web client encodes pre-serialized [`RawValue`]s (its values
/// come from JS as JSON text). Decoding is strict (unknown fields are refused); the checks
/// that serde cannot express (id lengths, `names` xor `where`, `apply` needs `accept`) are in
/// [`super::message::decode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ClientMsg<V = Value> {
    /// Start (or replace) a watch: by ids (`names`) or by a query (`where`).
    Watch {
        /// The client's id for it.
        watch: String,
        /// Entry ids.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        names: Option<Vec<String>>,
        /// Query criteria (`[op]field=pattern`, ANDed).
        #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
        criteria: Option<Vec<String>>,
        /// Resume after this version.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// Stop a watch.
    Unwatch {
        /// Its id.
        watch: String,
    },
    /// Publish registers: the body of `PUT /provider` (checked by the register API's rules).
    Provide {
        /// `{name: {value, metadata?, ttl?}}` (one [`Publish`] each).
        registers: BTreeMap<String, V>,
    },
    /// Stop receiving requests for these names.
    Unprovide {
        /// The names.
        names: Vec<String>,
    },
    /// A change request.
    Request {
        /// The register.
        name: String,
        /// The requested value.
        value: V,
    },
    /// A provider's verdict on a request.
    Verdict {
        /// The request id.
        request: u64,
        /// Accepted or rejected.
        accept: bool,
        /// Why (rejections).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Also set the register to the requested value.
        #[serde(default, skip_serializing_if = "is_false")]
        apply: bool,
    },
    /// Register a validator.
    Validate {
        /// The client's id for it.
        validator: String,
        /// Its criteria.
        #[serde(rename = "where")]
        criteria: Vec<String>,
    },
    /// Unregister a validator.
    Unvalidate {
        /// Its id.
        validator: String,
    },
    /// A validator's verdict on a transaction.
    Decide {
        /// The transaction.
        tx: u64,
        /// The validator.
        validator: String,
        /// Accepted or rejected.
        accept: bool,
        /// Why (rejections).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A client message as sent, with the `ref` its reply echoes (a number or a string; omitted
/// when null).
#[derive(Debug, Serialize)]
pub struct Outbound<'a, V> {
    /// Echoed in the reply.
    #[serde(rename = "ref")]
    pub reference: Ref<'a>,
    /// The message.
    #[serde(flatten)]
    pub msg: &'a ClientMsg<V>,
}

/// The `ref` a client gives a message: a number (awaited calls) or a string (a watch or
/// validator id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Ref<'a> {
    /// A call number.
    Number(u64),
    /// A watch or validator id.
    Id(&'a str),
}

impl<'a> Ref<'a> {
    /// Reads a `ref` echoed in a reply (`None`: absent, or neither form).
    pub fn of(raw: Option<&'a RawValue>) -> Option<Ref<'a>> {
        let text = raw?.get();
        match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            // Ids are the client's own (`w1`, `v2`): no escapes to undo.
            Some(id) if !id.contains('\\') => Some(Ref::Id(id)),
            Some(_) => None,
            None => text.parse().ok().map(Ref::Number),
        }
    }
}

impl<V: Serialize> Outbound<'_, V> {
    /// The JSON text of the frame.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl<V: Serialize> ClientMsg<V> {
    /// The JSON text of the message without a `ref`.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What the server sends. Encoded by the server ([`ServerMsg::to_text`]), decoded by clients
/// ([`ServerMsg::decode`]: unknown fields and types are tolerated, for newer servers).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMsg<'a> {
    /// Every matching entry at `version`.
    Snapshot(Snapshot<'a>),
    /// One version's matching operations.
    Change(Change<'a>),
    /// The snapshot or backlog of a watch is complete.
    Synced(Synced<'a>),
    /// A change request for a name this connection provides.
    Request(Delivered<'a>),
    /// A request this connection made reached a final status.
    Outcome(Outcome<'a>),
    /// A transaction touches entries matching a validator of this connection.
    Validate(Ask<'a>),
    /// A message succeeded.
    Ok(Reply<'a>),
    /// A message was refused.
    Error(Refusal<'a>),
    /// The answer to `ping`.
    Pong,
}

/// `snapshot`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot<'a> {
    /// The watch.
    #[serde(borrow)]
    pub watch: Cow<'a, str>,
    /// The registry version.
    pub version: u64,
    /// The entries, a JSON array.
    #[serde(borrow)]
    pub entries: &'a RawValue,
}

/// `change`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Change<'a> {
    /// The watch.
    #[serde(borrow)]
    pub watch: Cow<'a, str>,
    /// The version.
    pub version: u64,
    /// Who made it.
    #[serde(borrow)]
    pub actor: Cow<'a, str>,
    /// The operations the watch sees, a JSON array of [`WireOp`] (shared by watches).
    #[serde(borrow)]
    pub ops: &'a RawValue,
}

/// `synced`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Synced<'a> {
    /// The watch.
    #[serde(borrow)]
    pub watch: Cow<'a, str>,
    /// The version the watch is synced to.
    pub version: u64,
}

/// `request`: a change request delivered to its provider.
#[derive(Debug, Serialize, Deserialize)]
pub struct Delivered<'a> {
    /// The request id.
    pub request: u64,
    /// The register.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// The requested value (JSON).
    #[serde(borrow)]
    pub value: &'a RawValue,
}

/// `outcome`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome<'a> {
    /// The request id.
    pub request: u64,
    /// The register.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Its final status.
    #[serde(borrow)]
    pub status: Cow<'a, str>,
    /// Why (null when none was given).
    #[serde(borrow)]
    pub reason: Option<Cow<'a, str>>,
}

/// `validate`: a transaction to decide on.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ask<'a> {
    /// The transaction.
    pub tx: u64,
    /// The validator asked.
    #[serde(borrow)]
    pub validator: Cow<'a, str>,
    /// The matching operations, a JSON array of [`WireOp`] with `before`.
    #[serde(borrow)]
    pub ops: &'a RawValue,
    /// When the transaction is decided without this validator (ms since the epoch).
    pub deadline: u64,
}

/// `ok`: the `ref` of the message (omitted when it had none) and what it produced: nothing,
/// the registry version (`provide`), or a change request (`request`: id and status; `verdict`:
/// the whole record). Without `ref` and `version`, a record is also the body of
/// `GET /v1/requests/{id}` ([`Reply::record`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply<'a> {
    /// The message's `ref`.
    #[serde(
        rename = "ref",
        default,
        borrow,
        skip_serializing_if = "Option::is_none"
    )]
    pub reference: Option<&'a RawValue>,
    /// The registry version after a `provide`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<u64>,
    /// The register.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'a, str>>,
    /// The requested value.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub value: Option<&'a RawValue>,
    /// The request's status.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub status: Option<Cow<'a, str>>,
    /// The reason given with it.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'a, str>>,
}

impl<'a> Reply<'a> {
    /// A change request record (`value`: its value, pre-serialized).
    pub fn record(r: &'a crate::entry::RequestRecord, value: &'a RawValue) -> Self {
        Reply {
            request: Some(r.id),
            name: Some(Cow::Borrowed(&r.name)),
            value: Some(value),
            status: Some(Cow::Borrowed(crate::requests::status_name(r.status))),
            reason: r.reason.as_deref().map(Cow::Borrowed),
            ..Reply::default()
        }
    }
}

/// One register of a `provide` message or a `PUT /provider` body, as a client sends it
/// (values as JSON text).
#[derive(Debug, Serialize)]
pub struct Publish<'a> {
    /// The value.
    pub value: &'a RawValue,
    /// Its metadata (replaces the stored metadata; omitted = cleared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<&'a RawValue>,
    /// Its TTL as a Go duration (`"10s"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// The body of `POST /v1/requests` (the HTTP form of a `request` message).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody<V = Value> {
    /// The register.
    pub name: String,
    /// The requested value.
    pub value: V,
}

/// The body of `POST /v1/requests/{id}/verdict` (the HTTP form of a `verdict` message).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictBody {
    /// Accepted or rejected.
    pub accept: bool,
    /// Why (rejections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Also set the register to the requested value.
    #[serde(default, skip_serializing_if = "is_false")]
    pub apply: bool,
}

/// `error`: the `ref` of the refused message (omitted when it had none or could not be read)
/// and the error (`{code, message, reasons?}`, as in HTTP error bodies).
#[derive(Debug, Serialize, Deserialize)]
pub struct Refusal<'a> {
    /// The message's `ref`.
    #[serde(
        rename = "ref",
        default,
        borrow,
        skip_serializing_if = "Option::is_none"
    )]
    pub reference: Option<&'a RawValue>,
    /// The error.
    #[serde(borrow)]
    pub error: &'a RawValue,
}

/// One operation as a watch (`change`) or a validator (`validate`, with `before`) sees it.
#[derive(Debug, Serialize)]
pub struct WireOp<'a> {
    /// `create`, `update` or `delete`.
    pub op: &'static str,
    /// The entry id.
    pub id: &'a str,
    /// The entry after the operation (null: deleted, or no longer selected).
    pub entry: Option<&'a Entry>,
    /// The entry before it (validators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Option<&'a Entry>>,
}

impl<'a> WireOp<'a> {
    /// The operation as a validator sees it: with its pre-image.
    pub fn with_before(op: &'a Op) -> Self {
        WireOp {
            op: super::watch::op_name(op.op),
            id: &op.id,
            entry: op.entry.as_ref(),
            before: Some(op.before.as_ref()),
        }
    }
}

/// JSON text as a [`RawValue`] (for pre-serialized payloads).
pub fn raw<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| null())
}

/// `null` as a [`RawValue`].
pub fn null() -> Box<RawValue> {
    RawValue::from_string("null".into()).expect("null is JSON")
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

impl<'a> ServerMsg<'a> {
    /// The message type: the SSE `event:` name.
    pub fn event(&self) -> &'static str {
        match self {
            ServerMsg::Snapshot(_) => "snapshot",
            ServerMsg::Change(_) => "change",
            ServerMsg::Synced(_) => "synced",
            ServerMsg::Request(_) => "request",
            ServerMsg::Outcome(_) => "outcome",
            ServerMsg::Validate(_) => "validate",
            ServerMsg::Ok(_) => "ok",
            ServerMsg::Error(_) => "error",
            ServerMsg::Pong => "pong",
        }
    }

    /// The registry version it reflects, if any: the SSE `id:`.
    pub fn version(&self) -> Option<u64> {
        match self {
            ServerMsg::Snapshot(m) => Some(m.version),
            ServerMsg::Change(m) => Some(m.version),
            ServerMsg::Synced(m) => Some(m.version),
            _ => None,
        }
    }

    /// The JSON text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Decodes a server message; `Ok(None)` for a type this version does not know.
    /// Payloads stay JSON text borrowed from `text`.
    pub fn decode(text: &'a str) -> Result<Option<Self>, serde_json::Error> {
        let head: Head = serde_json::from_str(text)?;
        Ok(Some(match head.kind.as_ref() {
            "snapshot" => ServerMsg::Snapshot(serde_json::from_str(text)?),
            "change" => ServerMsg::Change(serde_json::from_str(text)?),
            "synced" => ServerMsg::Synced(serde_json::from_str(text)?),
            "request" => ServerMsg::Request(serde_json::from_str(text)?),
            "outcome" => ServerMsg::Outcome(serde_json::from_str(text)?),
            "validate" => ServerMsg::Validate(serde_json::from_str(text)?),
            "ok" => ServerMsg::Ok(serde_json::from_str(text)?),
            "error" => ServerMsg::Error(serde_json::from_str(text)?),
            "pong" => ServerMsg::Pong,
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
