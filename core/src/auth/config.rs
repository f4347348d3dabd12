//! `REGISTRY_TOKENS`: the access configuration, a JSON array of tokens with a name, a role and an
//! optional scope. Parsed strictly: anything malformed is an error naming the entry and what is
//! wrong (never a token's value), and the host then refuses to serve the API — it never falls
//! back to open access.

use serde_json::{Map, Value};

use super::credentials::{is_token_text, PaddedToken, MAX_TOKEN_LEN};
use super::principal::{Principal, Role};
use crate::api::route::MAX_REGISTRY_NAME;

/// The name of the Worker secret (or variable) holding the configuration.
pub const TOKENS_VAR: &str = "REGISTRY_TOKENS";

/// Longest token name (it becomes the actor of the versions the token makes).
pub const MAX_NAME_LEN: usize = 64;

/// Names a token may not have: the actors the registry itself records (`provider` and `api` in
/// open mode, `rollback`, `ttl`), so history never confuses a token with them.
pub const RESERVED_NAMES: [&str; 4] = [
    "provider",
    crate::api::v1_entries::ACTOR_API,
    crate::history::ACTOR_ROLLBACK,
    crate::history::ACTOR_TTL,
];

const FIELDS: [&str; 5] = ["name", "token", "role", "registries", "prefixes"];

/// Why `REGISTRY_TOKENS` was refused (the message says where and what; never a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{TOKENS_VAR} is invalid: {0}")]
pub struct ConfigError(pub String);

/// One configured token: padded for constant-time comparison (its value is never printed),
/// with what it grants.
#[derive(Debug, Clone)]
pub struct TokenEntry {
    token: PaddedToken,
    principal: Principal,
}

impl TokenEntry {
    /// What the token grants.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
}

/// The access configuration of a deployment.
#[derive(Debug, Clone)]
pub enum AuthConfig {
    /// No tokens configured: everything is open (local development).
    Open,
    /// Every API request needs one of these tokens.
    Tokens(Vec<TokenEntry>),
}

impl AuthConfig {
    /// Parses the value of `REGISTRY_TOKENS`; unset (`None`) or blank is open access.
    ///
    /// ```
    /// use registry_core::auth::AuthConfig;
    /// assert!(AuthConfig::parse(None).unwrap().is_open());
    /// let c = AuthConfig::parse(Some(r#"[{"name":"ops","token":"s3cr3t","role":"admin"}]"#)).unwrap();
    /// assert_eq!(c.lookup("s3cr3t").unwrap().name(), Some("ops"));
    /// assert_eq!(AuthConfig::parse(Some("[]")).unwrap_err().to_string(),
    ///     "REGISTRY_TOKENS is invalid: it is an empty array; leave it unset or empty for open access");
    /// ```
    pub fn parse(text: Option<&str>) -> Result<AuthConfig, ConfigError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(AuthConfig::Open);
        };
        let err = |m: String| ConfigError(m);
        let value: Value =
            serde_json::from_str(text).map_err(|e| err(format!("it is not valid JSON ({e})")))?;
        let Value::Array(items) = value else {
            return Err(err(format!(
                "it must be a JSON array of token objects, not {}",
                kind(&value)
            )));
        };
        if items.is_empty() {
            return Err(err(
                "it is an empty array; leave it unset or empty for open access".into(),
            ));
        }
        let mut entries: Vec<TokenEntry> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let entry = parse_entry(i + 1, item).map_err(err)?;
            for (j, other) in entries.iter().enumerate() {
                let what = format!(
                    "entry #{} ({:?})",
                    i + 1,
                    entry.principal.name().unwrap_or("")
                );
                let other_name = other.principal.name().unwrap_or("");
                if other.token.ct_eq(&entry.token) {
                    return Err(err(format!(
                        "{what}: its token is the same as entry #{}'s ({other_name:?}); every token must be unique",
                        j + 1
                    )));
                }
                if other.principal.name() == entry.principal.name()
                    && other.principal != entry.principal
                {
                    return Err(err(format!(
                        "{what}: entry #{} has the same name with another role or scope; two tokens \
                         may share a name (rotation) only when they grant the same access",
                        j + 1
                    )));
                }
            }
            entries.push(entry);
        }
        Ok(AuthConfig::Tokens(entries))
    }

    /// True when no tokens are configured.
    pub fn is_open(&self) -> bool {
        matches!(self, AuthConfig::Open)
    }

    /// `"open"` or `"tokens"`, for `/v1/health` and the page.
    pub fn mode(&self) -> &'static str {
        if self.is_open() {
            "open"
        } else {
            "tokens"
        }
    }

    /// The configured tokens' grants, in order (empty in open mode).
    pub fn entries(&self) -> &[TokenEntry] {
        match self {
            AuthConfig::Open => &[],
            AuthConfig::Tokens(t) => t,
        }
    }

    /// What a presented token grants: compared in constant time against every configured token
    /// (all of them, whatever matched), `None` when unknown or not a valid token text. In open
    /// mode every token (or none) is [`Principal::open`] — use [`super::authorize`].
    pub fn lookup(&self, presented: &str) -> Option<&Principal> {
        let presented = PaddedToken::new(presented)?;
        let mut found = None;
        for entry in self.entries() {
            if entry.token.ct_eq(&presented) {
                found = Some(&entry.principal);
            }
        }
        found
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_entry(n: usize, item: &Value) -> Result<TokenEntry, String> {
    let Value::Object(fields) = item else {
        return Err(format!(
            "entry #{n} must be an object with name, token and role, not {}",
            kind(item)
        ));
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "entry #{n}: unknown field {unknown:?} (allowed: {})",
            FIELDS.join(", ")
        ));
    }
    let name = required_string(n, fields, "name")?;
    let valid_name = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if !valid_name {
        return Err(format!(
            "entry #{n}: name must be 1-{MAX_NAME_LEN} characters of A-Z a-z 0-9 . _ - @"
        ));
    }
    let at = format!("entry #{n} ({name:?})");
    if RESERVED_NAMES.contains(&name) {
        return Err(format!(
            "{at}: the name is reserved for the registry's own actors ({})",
            RESERVED_NAMES.join(", ")
        ));
    }
    let token = required_string(n, fields, "token").map_err(|e| format!("{at}: {e}"))?;
    if token.is_empty() {
        return Err(format!("{at}: token is empty"));
    }
    if !is_token_text(token) {
        return Err(format!(
            "{at}: token must be 1-{MAX_TOKEN_LEN} characters of A-Z a-z 0-9 - . _ ~ \
             (e.g. the output of `openssl rand -hex 32`)"
        ));
    }
    let token = PaddedToken::new(token).expect("checked above");
    let role_text = required_string(n, fields, "role").map_err(|e| format!("{at}: {e}"))?;
    let role = Role::parse(role_text)
        .ok_or_else(|| format!("{at}: role must be one of consumer, provider, admin"))?;
    let registries = optional_list(fields, "registries", |p| {
        let chars_ok = p
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'*'));
        (chars_ok && !p.is_empty() && p.len() <= MAX_REGISTRY_NAME)
            .then_some(())
            .ok_or_else(|| {
                format!(
                    "registry pattern {p:?} must be 1-{MAX_REGISTRY_NAME} characters of \
                 A-Z a-z 0-9 . _ - and * (any characters)"
                )
            })
    })
    .map_err(|e| format!("{at}: {e}"))?;
    let prefixes = optional_list(fields, "prefixes", |p| {
        (!p.is_empty())
            .then_some(())
            .ok_or_else(|| "a prefix is empty; omit prefixes for every id".to_string())
    })
    .map_err(|e| format!("{at}: {e}"))?;
    Ok(TokenEntry {
        token,
        principal: Principal::new(name, role, registries, prefixes),
    })
}

fn required_string<'a>(
    n: usize,
    fields: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a str, String> {
    match fields.get(field) {
        None => Err(format!("entry #{n}: {field} is missing")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "entry #{n}: {field} must be a string, not {}",
            kind(other)
        )),
    }
}

/// An optional, non-empty array of strings, each checked by `check`.
fn optional_list(
    fields: &Map<String, Value>,
    field: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Option<Vec<String>>, String> {
    let Some(value) = fields.get(field) else {
        return Ok(None);
    };
    let Value::Array(items) = value else {
        return Err(format!(
            "{field} must be an array of strings (omit it for all), not {}",
            kind(value)
        ));
    };
    if items.is_empty() {
        return Err(format!(
            "{field} is an empty array, which would allow nothing; omit it for all"
        ));
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => check(s).map(|()| s.clone()),
            other => Err(format!(
                "{field} must contain strings only, not {}",
                kind(other)
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
