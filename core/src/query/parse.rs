//! The finder syntax: a query is a list of criteria `[op]field=pattern`, all ANDed.
//!
//! | op | meaning |
//! |---|---|
//! | none | glob: `*` any run of characters, `?` one character, `\` escapes; whole value |
//! | `~` | regex (linear-time engine), unanchored |
//! | `*` | contains |
//! | `^` | prefix |
//! | `$` | suffix |
//!
//! Fields: `.id`, `.ns`, `.name`, `.kind`, `meta.<path>`, `data.<path>` (dotted paths; a
//! number selects an array item), and `data` for the whole value. Anything else is an error
//! that names the criterion: a query is never silently broadened.

use std::fmt;

use serde_json::Value;
use thiserror::Error;

/// How a criterion compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// Glob over the whole value.
    Glob,
    /// Regular expression, unanchored.
    Regex,
    /// Substring.
    Contains,
    /// Prefix.
    Prefix,
    /// Suffix.
    Suffix,
}

impl Operator {
    /// The character that introduces it (`""` for glob).
    pub fn sigil(self) -> &'static str {
        match self {
            Operator::Glob => "",
            Operator::Regex => "~",
            Operator::Contains => "*",
            Operator::Prefix => "^",
            Operator::Suffix => "$",
        }
    }
}

/// What a criterion looks at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// The whole id.
    Id,
    /// The namespace (before the first `:`).
    Ns,
    /// The name (after the first `:`).
    Name,
    /// The kind.
    Kind,
    /// A path into `meta` (at least one segment).
    Meta(Vec<String>),
    /// A path into `data` (empty = the whole value).
    Data(Vec<String>),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Id => f.write_str(".id"),
            Field::Ns => f.write_str(".ns"),
            Field::Name => f.write_str(".name"),
            Field::Kind => f.write_str(".kind"),
            Field::Meta(p) => write!(f, "meta.{}", p.join(".")),
            Field::Data(p) if p.is_empty() => f.write_str("data"),
            Field::Data(p) => write!(f, "data.{}", p.join(".")),
        }
    }
}

/// One parsed criterion.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Criterion {
    /// The comparison.
    pub op: Operator,
    /// The field.
    pub field: Field,
    /// The pattern text.
    pub pattern: String,
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}={}", self.op.sigil(), self.field, self.pattern)
    }
}

/// A criterion that cannot be parsed or compiled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid criterion {criterion:?}: {reason}")]
pub struct QueryError {
    /// The criterion as given.
    pub criterion: String,
    /// Why it is invalid.
    pub reason: String,
}

fn invalid(criterion: &str, reason: impl Into<String>) -> QueryError {
    QueryError {
        criterion: criterion.to_string(),
        reason: reason.into(),
    }
}

/// Most criteria in one query.
pub const MAX_CRITERIA: usize = 32;
/// Longest criterion.
pub const MAX_CRITERION_LEN: usize = 1_024;

fn parse_path(text: &str, whole: &str) -> Result<Vec<String>, QueryError> {
    let segments: Vec<String> = text.split('.').map(str::to_string).collect();
    if segments.iter().any(String::is_empty) {
        return Err(invalid(whole, "empty path segment in field"));
    }
    Ok(segments)
}

/// Parses the `[op]field` part (the key of the object form).
pub fn parse_key(key: &str, whole: &str) -> Result<(Operator, Field), QueryError> {
    let (op, field) = match key.chars().next() {
        Some('~') => (Operator::Regex, &key[1..]),
        Some('*') => (Operator::Contains, &key[1..]),
        Some('^') => (Operator::Prefix, &key[1..]),
        Some('$') => (Operator::Suffix, &key[1..]),
        _ => (Operator::Glob, key),
    };
    let field = match field {
        ".id" => Field::Id,
        ".ns" => Field::Ns,
        ".name" => Field::Name,
        ".kind" => Field::Kind,
        "data" => Field::Data(Vec::new()),
        f => {
            if let Some(path) = f.strip_prefix("meta.") {
                Field::Meta(parse_path(path, whole)?)
            } else if let Some(path) = f.strip_prefix("data.") {
                Field::Data(parse_path(path, whole)?)
            } else if f.is_empty() {
                return Err(invalid(whole, "missing field"));
            } else {
                return Err(invalid(
                    whole,
                    format!("unknown field {f:?} (use .id, .ns, .name, .kind, meta.<path>, data or data.<path>)"),
                ));
            }
        }
    };
    Ok((op, field))
}

/// Checks a pattern for its operator: only a glob may be empty (it then matches the empty
/// value); an empty contains/prefix/suffix/regex would match everything.
fn check_pattern(op: Operator, pattern: &str, whole: &str) -> Result<(), QueryError> {
    if pattern.is_empty() && op != Operator::Glob {
        return Err(invalid(whole, "empty pattern would match everything"));
    }
    Ok(())
}

/// Parses one criterion string `[op]field=pattern`.
///
/// ```
/// use registry_core::query::parse::{parse_criterion, Field, Operator};
/// let c = parse_criterion("^meta.room=kit").unwrap();
/// assert_eq!((c.op, c.field, c.pattern.as_str()), (Operator::Prefix, Field::Meta(vec!["room".into()]), "kit"));
/// assert!(parse_criterion("room=kit").is_err());
/// ```
pub fn parse_criterion(text: &str) -> Result<Criterion, QueryError> {
    if text.len() > MAX_CRITERION_LEN {
        // The first 64 bytes, cut back to a character boundary.
        let cut = (0..=64)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        return Err(invalid(
            &text[..cut],
            format!("longer than {MAX_CRITERION_LEN} bytes"),
        ));
    }
    let Some((key, pattern)) = text.split_once('=') else {
        return Err(invalid(text, "expected [op]field=pattern"));
    };
    let (op, field) = parse_key(key, text)?;
    check_pattern(op, pattern, text)?;
    Ok(Criterion {
        op,
        field,
        pattern: pattern.to_string(),
    })
}

/// Parses a list of criterion strings.
pub fn parse_criteria<S: AsRef<str>>(texts: &[S]) -> Result<Vec<Criterion>, QueryError> {
    if texts.len() > MAX_CRITERIA {
        return Err(invalid("", format!("more than {MAX_CRITERIA} criteria")));
    }
    texts.iter().map(|t| parse_criterion(t.as_ref())).collect()
}

/// Parses the object form `{"[op]field": pattern, …}`; a non-string pattern stands for its
/// JSON text (`{"meta.port": 8080}` = `meta.port=8080`).
pub fn parse_object(obj: &serde_json::Map<String, Value>) -> Result<Vec<Criterion>, QueryError> {
    if obj.len() > MAX_CRITERIA {
        return Err(invalid("", format!("more than {MAX_CRITERIA} criteria")));
    }
    obj.iter()
        .map(|(key, v)| {
            let pattern = match v {
                Value::String(s) => s.clone(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(invalid(key, "a pattern must be a string or a scalar"))
                }
                other => other.to_string(),
            };
            let whole = format!("{key}={pattern}");
            let (op, field) = parse_key(key, &whole)?;
            check_pattern(op, &pattern, &whole)?;
            Ok(Criterion { op, field, pattern })
        })
        .collect()
}

/// The canonical form of a query: criteria sorted and deduplicated, each written as
/// `<op><len>:<field><len>:<pattern>` with byte lengths, so no two different queries share it,
/// whatever characters their patterns hold.
pub fn canonical(criteria: &[Criterion]) -> String {
    use std::fmt::Write;
    let mut sorted: Vec<&Criterion> = criteria.iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::with_capacity(sorted.iter().map(|c| c.pattern.len() + 24).sum());
    for c in sorted {
        let field = c.field.to_string();
        let _ = write!(
            out,
            "{}{}:{}{}:{}",
            c.op.sigil().chars().next().unwrap_or('='),
            field.len(),
            field,
            c.pattern.len(),
            c.pattern
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_operator_and_field() {
        let c = |s| parse_criterion(s).unwrap();
        assert_eq!(c(".kind=register").op, Operator::Glob);
        assert_eq!(c("~.id=^a.*$").op, Operator::Regex);
        assert_eq!(c("*.name=mp").op, Operator::Contains);
        assert_eq!(c("$.ns=chen").op, Operator::Suffix);
        assert_eq!(c("data=21.5").field, Field::Data(vec![]));
        assert_eq!(
            c("data.a.0.b=x").field,
            Field::Data(vec!["a".into(), "0".into(), "b".into()])
        );
        assert_eq!(c("meta.a=b=c").pattern, "b=c", "the first = splits");
        assert_eq!(c(".id=").pattern, "");
    }

    #[test]
    fn rejects_malformed_criteria_by_name() {
        for bad in [
            "room=kit",
            "meta=x",
            "meta.=x",
            "meta.a..b=x",
            ".id",
            "=x",
            "*.id=",
            "~data=",
            "^.kind=",
            "$.name=",
            ".ID=x",
            "~",
            "",
        ] {
            let e = parse_criterion(bad).unwrap_err();
            assert_eq!(e.criterion, bad, "{bad:?}");
        }
    }

    #[test]
    fn canonical_form_ignores_order_and_duplicates_but_not_content() {
        let a = parse_criteria(&[".kind=k", "meta.x=1"]).unwrap();
        let b = parse_criteria(&["meta.x=1", ".kind=k", ".kind=k"]).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        // Patterns with separators cannot collide.
        let c = parse_criteria(&["meta.x=1\",\"y"]).unwrap();
        let d = parse_criteria(&["meta.x=1", "meta.y=y"]).unwrap();
        assert_ne!(canonical(&c), canonical(&d));
    }
}
