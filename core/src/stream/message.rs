//! Client messages of the stream protocol (`docs/protocol.md`, "Streams"), decoded strictly:
//! a malformed message is an error naming the problem and changes nothing. The message shapes
//! are defined in [`super::wire`]; this adds the checks serde cannot express.

use serde_json::Value;

pub use super::wire::ClientMsg;
use crate::api::ApiError;

/// One decoded client message, with the `ref` to echo in its reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// Echoed in the reply (`null` when absent).
    pub reference: Value,
    /// The message.
    pub msg: ClientMsg,
}

fn bad(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(400, "invalid_message", format!("invalid message: {detail}"))
}

fn id_text(what: &str, s: &str) -> Result<(), ApiError> {
    if s.is_empty() || s.len() > 128 {
        return Err(bad(format!("{what} must be 1 to 128 characters")));
    }
    Ok(())
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
    let kind = match obj.get("type") {
        Some(Value::String(t)) => t.clone(),
        _ => return Err((reference, bad("\"type\" (a string) is required"))),
    };
    if kind == "ping" && obj.len() > 1 {
        return Err((reference, bad("ping takes no fields")));
    }
    let msg = serde_json::from_value::<ClientMsg>(Value::Object(obj))
        .map_err(|e| bad(format!("{kind}: {e}")))
        .and_then(check)
        .map_err(|e| (reference.clone(), e))?;
    Ok(Incoming { reference, msg })
}

/// The rules of a decoded message that its type does not express.
fn check(msg: ClientMsg) -> Result<ClientMsg, ApiError> {
    match &msg {
        ClientMsg::Watch {
            watch,
            names,
            criteria,
            ..
        } => {
            id_text("watch", watch)?;
            if names.is_some() == criteria.is_some() {
                return Err(bad("watch: give exactly one of \"names\" and \"where\""));
            }
        }
        ClientMsg::Verdict { accept, apply, .. } if *apply && !*accept => {
            return Err(bad("verdict: apply needs accept"));
        }
        ClientMsg::Validate { validator, .. } => id_text("validator", validator)?,
        _ => {}
    }
    Ok(msg)
}
