//! Client messages of the stream protocol (`docs/protocol.md`, "Streams"), decoded strictly:
//! a malformed message is an error naming the problem and changes nothing.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::ApiError;

/// One decoded client message, with the `ref` to echo in its reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// Echoed in the reply (`null` when absent).
    pub reference: Value,
    /// The message.
    pub msg: ClientMsg,
}

/// What a client can send.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMsg {
    /// Start (or replace) a watch.
    Watch {
        /// The client's id for it.
        watch: String,
        /// What it selects.
        spec: super::watch::WatchSpec,
        /// Resume after this version.
        since: Option<u64>,
    },
    /// Stop a watch.
    Unwatch {
        /// Its id.
        watch: String,
    },
    /// Publish registers (the body of `PUT /provider`, as JSON text).
    Provide {
        /// `{"registers": …}`.
        body: Vec<u8>,
        /// The names published.
        names: Vec<String>,
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
        value: Value,
    },
    /// A provider's verdict on a request.
    Verdict {
        /// The request id.
        request: u64,
        /// Accepted or rejected.
        accept: bool,
        /// Why (rejections).
        reason: Option<String>,
        /// Also set the register to the requested value.
        apply: bool,
    },
    /// Register a validator.
    Validate {
        /// The client's id for it.
        validator: String,
        /// Its criteria.
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
        reason: Option<String>,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
}

fn bad(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(400, "invalid_message", format!("invalid message: {detail}"))
}

fn fields<T: for<'de> Deserialize<'de>>(
    kind: &str,
    rest: Map<String, Value>,
) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(rest)).map_err(|e| bad(format!("{kind}: {e}")))
}

fn id_text(what: &str, s: &str) -> Result<(), ApiError> {
    if s.is_empty() || s.len() > 128 {
        return Err(bad(format!("{what} must be 1 to 128 characters")));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchFields {
    watch: String,
    #[serde(default)]
    names: Option<Vec<String>>,
    #[serde(default, rename = "where")]
    criteria: Option<Vec<String>>,
    #[serde(default)]
    since: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchId {
    watch: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Names {
    names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestFields {
    name: String,
    value: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictFields {
    request: u64,
    accept: bool,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    apply: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateFields {
    validator: String,
    #[serde(rename = "where")]
    criteria: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidatorId {
    validator: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideFields {
    tx: u64,
    validator: String,
    accept: bool,
    #[serde(default)]
    reason: Option<String>,
}

/// Decodes one text frame. On error, the `ref` found (if any) comes back with it.
pub fn decode(text: &str) -> Result<Incoming, (Value, ApiError)> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| (Value::Null, bad(format!("not JSON: {e}"))))?;
    let Value::Object(mut obj) = value else {
        return Err((Value::Null, bad("a message is a JSON object")));
    };
    let reference = obj.remove("ref").unwrap_or(Value::Null);
    if !matches!(reference, Value::Null | Value::String(_) | Value::Number(_)) {
        return Err((Value::Null, bad("ref must be a string or a number")));
    }
    let kind = match obj.remove("type") {
        Some(Value::String(t)) => t,
        _ => return Err((reference, bad("\"type\" (a string) is required"))),
    };
    let msg = decode_kind(&kind, obj).map_err(|e| (reference.clone(), e))?;
    Ok(Incoming { reference, msg })
}

fn decode_kind(kind: &str, rest: Map<String, Value>) -> Result<ClientMsg, ApiError> {
    Ok(match kind {
        "watch" => {
            let f: WatchFields = fields(kind, rest)?;
            id_text("watch", &f.watch)?;
            if f.names.is_some() == f.criteria.is_some() {
                return Err(bad("watch: give exactly one of \"names\" and \"where\""));
            }
            ClientMsg::Watch {
                watch: f.watch,
                spec: super::watch::WatchSpec {
                    names: f.names,
                    criteria: f.criteria,
                },
                since: f.since,
            }
        }
        "unwatch" => {
            let f: WatchId = fields(kind, rest)?;
            ClientMsg::Unwatch { watch: f.watch }
        }
        "provide" => {
            let registers = match rest.get("registers") {
                Some(Value::Object(r)) if rest.len() == 1 => r,
                _ => return Err(bad("provide: {\"registers\": {name: {value, …}}} expected")),
            };
            let names = registers.keys().cloned().collect();
            let body = serde_json::to_vec(&Value::Object(rest)).map_err(bad)?;
            ClientMsg::Provide { body, names }
        }
        "unprovide" => {
            let f: Names = fields(kind, rest)?;
            ClientMsg::Unprovide { names: f.names }
        }
        "request" => {
            let f: RequestFields = fields(kind, rest)?;
            ClientMsg::Request {
                name: f.name,
                value: f.value,
            }
        }
        "verdict" => {
            let f: VerdictFields = fields(kind, rest)?;
            if f.apply && !f.accept {
                return Err(bad("verdict: apply needs accept"));
            }
            ClientMsg::Verdict {
                request: f.request,
                accept: f.accept,
                reason: f.reason,
                apply: f.apply,
            }
        }
        "validate" => {
            let f: ValidateFields = fields(kind, rest)?;
            id_text("validator", &f.validator)?;
            ClientMsg::Validate {
                validator: f.validator,
                criteria: f.criteria,
            }
        }
        "unvalidate" => {
            let f: ValidatorId = fields(kind, rest)?;
            ClientMsg::Unvalidate {
                validator: f.validator,
            }
        }
        "decide" => {
            let f: DecideFields = fields(kind, rest)?;
            ClientMsg::Decide {
                tx: f.tx,
                validator: f.validator,
                accept: f.accept,
                reason: f.reason,
            }
        }
        "ping" if rest.is_empty() => ClientMsg::Ping,
        "ping" => return Err(bad("ping takes no fields")),
        other => return Err(bad(format!("unknown type {other:?}"))),
    })
}
