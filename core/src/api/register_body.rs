//! Decoding of `PUT /consumer` and `PUT /provider` bodies with reg's validation order: every
//! decode error first (`invalid request`), then a missing `registers` (`registers is
//! required`), then a register without `value` (`register value is required`).

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::duration::{parse_go_duration, positive_millis};
use crate::entry::Meta;

/// One register of a `PUT /provider` body.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderItem {
    /// Register name.
    pub name: String,
    /// The value (`null` allowed).
    pub value: Value,
    /// Metadata; empty when absent or `null`.
    pub metadata: Meta,
    /// TTL in ms; `None` when absent or ≤ 0 (the default applies).
    pub ttl_ms: Option<u64>,
}

/// Decodes the `registers` object and checks what reg checks. `check` decodes one element
/// (an object) or says why it is malformed.
fn decode_registers<T>(
    body: &[u8],
    mut check: impl FnMut(&str, &Map<String, Value>) -> Result<T, String>,
) -> Result<Vec<(String, Option<T>)>, ApiError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        if body.iter().all(u8::is_ascii_whitespace) {
            ApiError::invalid_request("empty body")
        } else {
            ApiError::invalid_request(format!("body is not JSON: {e}"))
        }
    })?;
    let registers = match &doc {
        Value::Null => None,
        Value::Object(top) => match top.get("registers") {
            None | Some(Value::Null) => None,
            Some(Value::Object(r)) => Some(r),
            Some(_) => return Err(ApiError::invalid_request("registers must be an object")),
        },
        _ => return Err(ApiError::invalid_request("body must be a JSON object")),
    };
    let mut items = Vec::new();
    if let Some(registers) = registers {
        for (name, element) in registers {
            match element {
                // reg: a null element leaves `value` unset; reported after all decode errors.
                Value::Null => items.push((name.clone(), None)),
                Value::Object(fields) => {
                    let decoded = check(name, fields).map_err(|e| {
                        ApiError::invalid_request(format!("register {name:?}: {e}"))
                    })?;
                    let present = fields.contains_key("value");
                    items.push((name.clone(), present.then_some(decoded)));
                }
                _ => {
                    return Err(ApiError::invalid_request(format!(
                        "register {name:?} must be an object"
                    )))
                }
            }
        }
    }
    let Some(_) = registers else {
        return Err(ApiError::registers_required());
    };
    if let Some((name, _)) = items.iter().find(|(_, d)| d.is_none()) {
        return Err(ApiError::value_required(name));
    }
    Ok(items)
}

/// Decodes a `PUT /consumer` body into `(name, requested value)` pairs.
pub fn decode_consumer_put(body: &[u8]) -> Result<Vec<(String, Value)>, ApiError> {
    let items = decode_registers(body, |_, fields| {
        Ok(fields.get("value").cloned().unwrap_or(Value::Null))
    })?;
    Ok(items
        .into_iter()
        .map(|(n, v)| (n, v.expect("checked by decode_registers")))
        .collect())
}

/// Decodes a `PUT /provider` body.
pub fn decode_provider_put(body: &[u8]) -> Result<Vec<ProviderItem>, ApiError> {
    let items = decode_registers(body, |name, fields| {
        let metadata = match fields.get("metadata") {
            None | Some(Value::Null) => Meta::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err("metadata must be an object".to_string()),
        };
        let ttl_ms = match fields.get("ttl") {
            None => None,
            Some(Value::String(s)) => {
                let nanos = parse_go_duration(s).map_err(|e| format!("ttl: {e}"))?;
                // Zero or less means the default, as in reg.
                positive_millis(nanos)
            }
            Some(other) => {
                return Err(format!(
                    "ttl must be a duration string such as \"10s\", not {other}"
                ))
            }
        };
        Ok(ProviderItem {
            name: name.to_string(),
            value: fields.get("value").cloned().unwrap_or(Value::Null),
            metadata,
            ttl_ms,
        })
    })?;
    Ok(items
        .into_iter()
        .map(|(_, v)| v.expect("checked by decode_registers"))
        .collect())
}

/// The `PUT /provider` body of a `registers` object (a stream `provide`), decoded by the
/// same rules as the HTTP body.
pub fn provider_body<V: serde::Serialize>(
    registers: &std::collections::BTreeMap<String, V>,
) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Body<'a, V> {
        registers: &'a std::collections::BTreeMap<String, V>,
    }
    serde_json::to_vec(&Body { registers }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> &'static str {
        decode_provider_put(body.as_bytes()).unwrap_err().code
    }

    #[test]
    fn validation_order_matches_reg() {
        assert_eq!(code(""), "invalid_request");
        assert_eq!(code("invalid json"), "invalid_request");
        assert_eq!(code("[]"), "invalid_request");
        assert_eq!(code("{}"), "registers_required");
        assert_eq!(code("null"), "registers_required");
        assert_eq!(code(r#"{"registers":null}"#), "registers_required");
        assert_eq!(code(r#"{"registers":[]}"#), "invalid_request");
        assert_eq!(code(r#"{"registers":{"t":5}}"#), "invalid_request");
        assert_eq!(code(r#"{"registers":{"t":{}}}"#), "value_required");
        assert_eq!(code(r#"{"registers":{"t":null}}"#), "value_required");
        // A decode error anywhere wins over a missing value elsewhere.
        assert_eq!(
            code(r#"{"registers":{"a":{},"b":{"value":1,"ttl":5}}}"#),
            "invalid_request"
        );
        for ttl in [r#""abc""#, "10", r#""""#, "null"] {
            let body = format!(r#"{{"registers":{{"t":{{"value":1,"ttl":{ttl}}}}}}}"#);
            assert_eq!(code(&body), "invalid_request", "ttl {ttl}");
        }
        assert_eq!(
            code(r#"{"registers":{"t":{"value":1,"metadata":[]}}}"#),
            "invalid_request"
        );
        assert_eq!(
            code(r#"{"registers":{"t":{"value":1}}} trailing"#),
            "invalid_request"
        );
    }

    #[test]
    fn decodes_values_metadata_and_ttl() {
        let items = decode_provider_put(
            br#"{"registers":{"t":{"value":null,"ttl":"0.5s","metadata":{"u":"C"},"x":1},"z":{"value":25.0,"ttl":"-1s"}}}"#,
        )
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].value, Value::Null);
        assert_eq!(items[0].ttl_ms, Some(500));
        assert_eq!(items[0].metadata["u"], "C");
        assert_eq!(items[1].ttl_ms, None);
        assert_eq!(serde_json::to_string(&items[1].value).unwrap(), "25.0");
        // The longest TTL there is stays the longest, in ms (never wraps to the default).
        let items = decode_provider_put(
            br#"{"registers":{"far":{"value":1,"ttl":"2562047h47m16.854775807s"}}}"#,
        )
        .unwrap();
        assert_eq!(items[0].ttl_ms, Some(9_223_372_036_855));
        assert_eq!(
            code(r#"{"registers":{"far":{"value":1,"ttl":"2562047h47m16.854775808s"}}}"#),
            "invalid_request"
        );
        let reqs = decode_consumer_put(br#"{"registers":{"m":{"value":null}}}"#).unwrap();
        assert_eq!(reqs, vec![("m".to_string(), Value::Null)]);
        assert!(decode_consumer_put(br#"{"registers":{}}"#)
            .unwrap()
            .is_empty());
    }
}
