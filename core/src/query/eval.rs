//! Compiling criteria into matchers and evaluating them against entries.
//!
//! Values: a string matches by its text, other scalars by their JSON text (`8080`, `true`,
//! `null`), an array when any element matches, an object never; a missing field never matches.

use std::sync::Arc;

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::parse::{Criterion, Field, Operator, QueryError};
use crate::entry::{split_id, Entry};

/// One glob token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A literal character.
    Lit(char),
    /// `?`: any one character.
    One,
    /// `*`: any run of characters.
    Star,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// The whole value equals this text (a glob without wildcards).
    Exact(String),
    /// A glob with wildcards.
    Glob(Vec<Tok>),
    /// A regular expression.
    Regex(Arc<Regex>),
    /// Substring.
    Contains(String),
    /// Prefix.
    Prefix(String),
    /// Suffix.
    Suffix(String),
}

fn glob_tokens(pattern: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '*' => {
                if out.last() == Some(&Tok::Star) {
                    continue;
                }
                Tok::Star
            }
            '?' => Tok::One,
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            c => Tok::Lit(c),
        });
    }
    out
}

/// Glob matching with single-star backtracking: O(text × pattern) at worst, linear usually.
/// Works on byte offsets of `text`, decoding characters on the way (no allocation).
fn glob_match(toks: &[Tok], text: &str) -> bool {
    let next_char = |at: usize| text[at..].chars().next().map(|c| (c, at + c.len_utf8()));
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some((c, after)) = next_char(ti) {
        match toks.get(pi) {
            Some(Tok::Star) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(Tok::One) => {
                ti = after;
                pi += 1;
            }
            Some(Tok::Lit(l)) if *l == c => {
                ti = after;
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    let (_, resume) = next_char(st).expect("a star position is inside the text");
                    pi = sp + 1;
                    ti = resume;
                    star = Some((sp, resume));
                }
                None => return false,
            },
        }
    }
    toks[pi..].iter().all(|t| *t == Tok::Star)
}

impl Matcher {
    /// Whether a value's text matches.
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::Exact(p) => text == p,
            Matcher::Glob(toks) => glob_match(toks, text),
            Matcher::Regex(re) => re.is_match(text),
            Matcher::Contains(p) => text.contains(p.as_str()),
            Matcher::Prefix(p) => text.starts_with(p.as_str()),
            Matcher::Suffix(p) => text.ends_with(p.as_str()),
        }
    }
}

/// Compiles a regex with bounded size (the engine is linear-time in the text).
pub fn compile_regex(c: &Criterion) -> Result<Regex, QueryError> {
    RegexBuilder::new(&c.pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| QueryError {
            criterion: c.to_string(),
            reason: format!("invalid regex: {e}"),
        })
}

/// Compiles one criterion; `regex` supplies (and may cache) compiled regexes.
pub fn compile(
    c: &Criterion,
    regex: &mut dyn FnMut(&Criterion) -> Result<Arc<Regex>, QueryError>,
) -> Result<Matcher, QueryError> {
    Ok(match c.op {
        Operator::Glob => {
            let toks = glob_tokens(&c.pattern);
            if toks.iter().all(|t| matches!(t, Tok::Lit(_))) {
                Matcher::Exact(
                    toks.iter()
                        .map(|t| if let Tok::Lit(ch) = t { *ch } else { ' ' })
                        .collect(),
                )
            } else {
                Matcher::Glob(toks)
            }
        }
        Operator::Regex => Matcher::Regex(regex(c)?),
        Operator::Contains => Matcher::Contains(c.pattern.clone()),
        Operator::Prefix => Matcher::Prefix(c.pattern.clone()),
        Operator::Suffix => Matcher::Suffix(c.pattern.clone()),
    })
}

/// A query ready to run.
#[derive(Debug, Clone)]
pub struct Compiled {
    criteria: Vec<(Field, Matcher)>,
}

impl Compiled {
    /// Compiles all criteria (ANDed).
    pub fn new(
        criteria: &[Criterion],
        regex: &mut dyn FnMut(&Criterion) -> Result<Arc<Regex>, QueryError>,
    ) -> Result<Self, QueryError> {
        let criteria = criteria
            .iter()
            .map(|c| Ok((c.field.clone(), compile(c, regex)?)))
            .collect::<Result<_, QueryError>>()?;
        Ok(Compiled { criteria })
    }

    /// Whether an entry satisfies every criterion.
    pub fn matches(&self, e: &Entry) -> bool {
        self.criteria
            .iter()
            .all(|(field, m)| field_matches(e, field, m))
    }
}

fn scalar_matches(v: &Value, m: &Matcher) -> bool {
    match v {
        Value::String(s) => m.is_match(s),
        Value::Number(n) => m.is_match(&n.to_string()),
        Value::Bool(b) => m.is_match(if *b { "true" } else { "false" }),
        Value::Null => m.is_match("null"),
        Value::Array(items) => items.iter().any(|i| scalar_matches(i, m)),
        Value::Object(_) => false,
    }
}

/// Follows `path` from `v`; arrays on the way fan out (a numeric segment indexes instead).
fn path_matches(v: &Value, path: &[String], m: &Matcher) -> bool {
    let Some((seg, rest)) = path.split_first() else {
        return scalar_matches(v, m);
    };
    match v {
        Value::Object(map) => map.get(seg).is_some_and(|next| path_matches(next, rest, m)),
        Value::Array(items) => match seg.parse::<usize>() {
            Ok(i) => items.get(i).is_some_and(|next| path_matches(next, rest, m)),
            Err(_) => items.iter().any(|item| path_matches(item, path, m)),
        },
        _ => false,
    }
}

fn field_matches(e: &Entry, field: &Field, m: &Matcher) -> bool {
    match field {
        Field::Id => m.is_match(&e.id),
        Field::Ns => m.is_match(split_id(&e.id).0),
        Field::Name => m.is_match(split_id(&e.id).1),
        Field::Kind => m.is_match(&e.kind),
        Field::Meta(path) => {
            let (first, rest) = path.split_first().expect("meta paths are not empty");
            e.meta.get(first).is_some_and(|v| path_matches(v, rest, m))
        }
        Field::Data(path) => path_matches(&e.data, path, m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str, t: &str) -> bool {
        glob_match(&glob_tokens(p), t)
    }

    #[test]
    fn globs() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a*c", "ac"));
        assert!(!glob("a*c", "acb"));
        assert!(glob("*", ""));
        assert!(glob("?b", "éb"));
        assert!(!glob("?", ""));
        assert!(glob("a\\*", "a*"));
        assert!(!glob("a\\*", "ab"));
        assert!(glob("*a*a*a*", "xaxaxax"));
        assert!(!glob("*a*a*a*b", &"a".repeat(200)));
        assert!(glob("", ""));
        assert!(!glob("", "x"));
    }
}
