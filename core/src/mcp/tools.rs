//! The MCP tools: each one's name, description and JSON Schema ([`definitions`]), and how a
//! call becomes the HTTP request of the API it stands for ([`plan`]). A tool has no rules of
//! its own: the request goes through the same router, checks and write pipeline as any other
//! request, made by the same principal.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::{ApiError, HttpRequest};

/// What one tool is: its name, what an agent reads about it, and its input schema.
struct Tool {
    name: &'static str,
    description: &'static str,
    schema: fn() -> Value,
}

const TOOLS: [Tool; 9] = [
    Tool {
        name: "get_register",
        description: "Read one register: its current value and metadata. Answers \
            {\"registers\":{NAME:{\"value\":…,\"metadata\"?:…}}}, or {\"registers\":{}} when the \
            register does not exist (or has expired).",
        schema: || object(json!({"name": name_prop()}), &["name"]),
    },
    Tool {
        name: "set_register",
        description: "Publish a register as its provider: set its value (any JSON), optionally \
            its metadata and a TTL (a Go duration such as \"30s\"; default 10s, after which the \
            register disappears unless published again). Needs a provider token.",
        schema: || {
            object(
                json!({"name": name_prop(), "value": {"description": "The new value (any JSON)."},
                       "metadata": {"type": "object", "description": "Metadata (replaces the old)."},
                       "ttl": {"type": "string", "description": "Time to live, a Go duration (\"10s\", \"5m\")."}}),
                &["name", "value"],
            )
        },
    },
    Tool {
        name: "list_registers",
        description: "Read every register (or only the named ones) with value and metadata: \
            {\"registers\":{NAME:{…},…}}.",
        schema: || {
            object(
                json!({"names": {"type": "array", "items": {"type": "string"},
                                 "description": "Only these registers (default: all)."}}),
                &[],
            )
        },
    },
    Tool {
        name: "request_change",
        description: "Ask the register's provider to change its value (the provider decides). \
            Answers {\"request\":ID,\"status\":\"pending\",…}; the change shows in the register \
            once the provider accepted it.",
        schema: || {
            object(
                json!({"name": name_prop(), "value": {"description": "The value asked for (any JSON)."}}),
                &["name", "value"],
            )
        },
    },
    Tool {
        name: "find_entries",
        description: "Find entries (registers and other kinds) with the finder syntax: each \
            criterion is FIELD=PATTERN (fields .id .ns .name .kind, meta.KEY, data, data.PATH; \
            ^ prefix, $ suffix, ~ contains, * glob, /re/ regex; several criteria all apply), e.g. \
            [\".kind=register\", \"meta.room=kitchen\"]. Paged: pass next_cursor back as cursor.",
        schema: || {
            object(
                json!({"where": {"type": "array", "items": {"type": "string"},
                                 "description": "Criteria, all of which must match (none: every entry)."},
                       "limit": {"type": "integer", "minimum": 1, "maximum": 1000,
                                 "description": "Entries per page (default 100)."},
                       "cursor": {"type": "string", "description": "next_cursor of the previous page."}}),
                &[],
            )
        },
    },
    Tool {
        name: "get_history",
        description: "The registry's history: with `version`, that version with its changeset \
            (each operation with the entry before and after); otherwise a page of versions, \
            newest first ({version, parent, timestamp, actor, ops}).",
        schema: || {
            object(
                json!({"version": {"type": "integer", "minimum": 1, "description": "One version in full."},
                       "since": {"type": "integer", "minimum": 0, "description": "Only versions after this one."},
                       "before": {"type": "integer", "minimum": 1, "description": "Only versions before this one (paging)."},
                       "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Versions per page (default 50)."}}),
                &[],
            )
        },
    },
    Tool {
        name: "diff_versions",
        description: "What changed between two versions, squashed into one changeset (from > to \
            gives the reverse).",
        schema: || {
            object(
                json!({"from": {"type": "integer", "minimum": 0}, "to": {"type": "integer", "minimum": 0}}),
                &["from", "to"],
            )
        },
    },
    Tool {
        name: "rollback",
        description: "Make the registry's entries what they were at version `to`, as a new \
            version (history is kept). Needs an admin token without prefix restriction. \
            `if_version`: only if the head is still this version.",
        schema: || {
            object(
                json!({"to": {"type": "integer", "minimum": 0},
                       "if_version": {"type": "integer", "minimum": 0, "description": "Expected head version."}}),
                &["to"],
            )
        },
    },
    Tool {
        name: "transaction",
        description: "Change several entries atomically as one version, applied in dependency \
            order: each op is {\"op\":\"create|update|upsert|delete\",\"id\",\"kind\"?,\"meta\"?,\
            \"data\"?,\"ttl\"?,\"if_version\"?}. All or nothing: a refusal names every reason. \
            Needs an admin token.",
        schema: || {
            object(
                json!({"ops": {"type": "array", "minItems": 1, "items": {
                           "type": "object",
                           "properties": {
                               "op": {"type": "string", "enum": ["create", "update", "upsert", "delete"]},
                               "id": {"type": "string"}, "kind": {"type": "string"},
                               "meta": {"type": "object"}, "data": {}, "ttl": {"type": "string"},
                               "if_version": {"type": "integer", "minimum": 0}},
                           "required": ["op", "id"], "additionalProperties": false}},
                       "if_version": {"type": "integer", "minimum": 0, "description": "Expected head version."}}),
                &["ops"],
            )
        },
    },
];

fn name_prop() -> Value {
    json!({"type": "string", "description": "The register's name, e.g. \"kitchen:temp\"."})
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required,
           "additionalProperties": false})
}

/// Every tool as `tools/list` shows it.
pub fn definitions() -> Value {
    let tools: Vec<Value> = TOOLS
        .iter()
        .map(|t| json!({"name": t.name, "description": t.description, "inputSchema": (t.schema)()}))
        .collect();
    json!({ "tools": tools })
}

/// Whether a tool of this name exists.
pub fn exists(name: &str) -> bool {
    TOOLS.iter().any(|t| t.name == name)
}

/// Percent-encodes a query value (everything but unreserved characters).
fn enc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn args<T: DeserializeOwned>(tool: &str, arguments: &Value) -> Result<T, ApiError> {
    serde_json::from_value(arguments.clone()).map_err(|e| {
        ApiError::new(
            400,
            "invalid_arguments",
            format!("arguments of {tool}: {e}"),
        )
    })
}

fn body(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).expect("a JSON value always serializes")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Name {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetRegister {
    name: String,
    value: Value,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    ttl: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Names {
    #[serde(default)]
    names: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestChange {
    name: String,
    value: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Find {
    #[serde(default, rename = "where")]
    criteria: Vec<String>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct History {
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    since: Option<u64>,
    #[serde(default)]
    before: Option<u64>,
    #[serde(default)]
    limit: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Diff {
    from: u64,
    to: u64,
}

/// The HTTP request (method, `path?query`, body) a tool call stands for, before the caller's
/// principal is attached; an argument error is a 400 `invalid_arguments`. `None`: no such tool.
pub fn plan(tool: &str, arguments: &Value) -> Option<Result<HttpRequest, ApiError>> {
    let a = if arguments.is_null() {
        &Value::Object(Map::new())
    } else {
        arguments
    };
    let planned = match tool {
        "get_register" => args::<Name>(tool, a)
            .map(|n| HttpRequest::new("GET", &format!("/consumer?name={}", enc(&n.name)), "")),
        "set_register" => args::<SetRegister>(tool, a).map(|s| {
            let mut reg = json!({ "value": s.value });
            if let Some(m) = s.metadata {
                reg["metadata"] = Value::Object(m);
            }
            if let Some(t) = s.ttl {
                reg["ttl"] = json!(t);
            }
            let mut registers = Map::new();
            registers.insert(s.name, reg);
            HttpRequest::new("PUT", "/provider", body(json!({ "registers": registers })))
        }),
        "list_registers" => args::<Names>(tool, a).map(|n| {
            let query: Vec<String> = n
                .names
                .unwrap_or_default()
                .iter()
                .map(|name| format!("name={}", enc(name)))
                .collect();
            HttpRequest::new("GET", &format!("/consumer?{}", query.join("&")), "")
        }),
        "request_change" => args::<RequestChange>(tool, a).map(|r| {
            HttpRequest::new(
                "POST",
                "/v1/requests",
                body(json!({"name": r.name, "value": r.value})),
            )
        }),
        "find_entries" => args::<Find>(tool, a).map(|f| {
            let mut query: Vec<String> = f
                .criteria
                .iter()
                .map(|c| format!("where={}", enc(c)))
                .collect();
            query.extend(f.limit.map(|l| format!("limit={l}")));
            query.extend(f.cursor.map(|c| format!("cursor={}", enc(&c))));
            HttpRequest::new("GET", &format!("/v1/entries?{}", query.join("&")), "")
        }),
        "get_history" => args::<History>(tool, a).map(|h| match h.version {
            Some(v) => HttpRequest::new("GET", &format!("/v1/versions/{v}"), ""),
            None => {
                let query: Vec<String> =
                    [("since", h.since), ("before", h.before), ("limit", h.limit)]
                        .iter()
                        .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
                        .collect();
                HttpRequest::new("GET", &format!("/v1/versions?{}", query.join("&")), "")
            }
        }),
        "diff_versions" => args::<Diff>(tool, a)
            .map(|d| HttpRequest::new("GET", &format!("/v1/diff?from={}&to={}", d.from, d.to), "")),
        // The API decodes these bodies itself (unknown fields refused there, once).
        "rollback" => Ok(HttpRequest::new("POST", "/v1/rollback", body(a.clone()))),
        "transaction" => Ok(HttpRequest::new("POST", "/v1/tx", body(a.clone()))),
        _ => return None,
    };
    Some(planned)
}
