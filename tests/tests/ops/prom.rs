//! A strict reader of the Prometheus text exposition format 0.0.4 (what `promtool check
//! metrics` would reject, it rejects): `# HELP` and `# TYPE` once per family and before its
//! samples, valid metric and label names, quoted and escaped label values, no duplicate series,
//! numeric values, families not interleaved.

use std::collections::{BTreeMap, BTreeSet};

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition: the type of each family and every sample in order.
#[derive(Debug, Default)]
pub struct Exposition {
    pub types: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The samples of a metric.
    pub fn of(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }

    /// The one sample of a metric with these labels (panics if there is none).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels)
            .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
    }

    /// The sample of a metric whose labels include these, if any.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.of(name)
            .into_iter()
            .find(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
    }
}

fn metric_name_ok(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn label_name_ok(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !n.starts_with("__")
}

/// The family a sample belongs to (counters' and summaries' suffixes are the family's own).
fn family_of<'a>(name: &'a str, types: &BTreeMap<String, String>) -> &'a str {
    if types.contains_key(name) {
        return name;
    }
    for suffix in ["_sum", "_count", "_bucket"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if types.contains_key(base) {
                return base;
            }
        }
    }
    name
}

/// Parses `{a="x",b="y"}` (the braces included); the rest of the line after it.
fn labels(text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut out = BTreeMap::new();
    let mut rest = text.strip_prefix('{').ok_or("labels must start with {")?;
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((out, r));
        }
        let eq = rest.find('=').ok_or("a label without =")?;
        let name = &rest[..eq];
        if !label_name_ok(name) {
            return Err(format!("invalid label name {name:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("a label value must be quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("an unterminated label value".into()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("invalid escape {other:?}")),
                },
                Some((_, '\n')) => return Err("a raw newline in a label value".into()),
                Some((_, c)) => value.push(c),
            }
        };
        if out.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} given twice"));
        }
        rest = &rest[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err("labels must be separated by commas".into());
        }
    }
}

fn value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        t => t.parse::<f64>().map_err(|_| format!("invalid value {t:?}")),
    }
}

/// Parses and checks an exposition.
pub fn parse(text: &str) -> Result<Exposition, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the last line must end with a newline".into());
    }
    let mut exp = Exposition::default();
    let mut helps = BTreeSet::new();
    let mut seen_samples: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        let mut switch_to = |family: &str, current: &mut Option<String>| -> Result<(), String> {
            if current.as_deref() != Some(family) {
                if let Some(old) = current.take() {
                    finished.insert(old);
                }
                if finished.contains(family) {
                    return Err(format!("family {family} is interleaved with another"));
                }
                *current = Some(family.to_string());
            }
            Ok(())
        };
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
            match words.as_slice() {
                ["HELP", name, ..] => {
                    if !metric_name_ok(name) || !helps.insert(name.to_string()) {
                        return Err(at("invalid or repeated HELP".into()));
                    }
                    switch_to(name, &mut current).map_err(at)?;
                }
                ["TYPE", name, kind] => {
                    let known = ["counter", "gauge", "histogram", "summary", "untyped"];
                    if !metric_name_ok(name) || !known.contains(kind) {
                        return Err(at("invalid TYPE".into()));
                    }
                    if seen_samples.contains(*name) {
                        return Err(at("TYPE after the family's samples".into()));
                    }
                    if exp
                        .types
                        .insert(name.to_string(), kind.to_string())
                        .is_some()
                    {
                        return Err(at("repeated TYPE".into()));
                    }
                    switch_to(name, &mut current).map_err(at)?;
                }
                ["TYPE", ..] => return Err(at("TYPE needs a name and a type".into())),
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !metric_name_ok(name) {
            return Err(at(format!("invalid metric name {name:?}")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            labels(&line[name_end..]).map_err(at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let parts: Vec<&str> = rest.trim_start_matches(' ').split(' ').collect();
        if rest.is_empty() || !rest.starts_with(' ') || parts.is_empty() || parts.len() > 2 {
            return Err(at("expected ` value [timestamp]`".into()));
        }
        let v = value(parts[0]).map_err(at)?;
        if let Some(ts) = parts.get(1) {
            ts.parse::<i64>()
                .map_err(|_| at("invalid timestamp".into()))?;
        }
        let family = family_of(name, &exp.types).to_string();
        if exp.types.get(&family).map(String::as_str) == Some("counter") && v < 0.0 {
            return Err(at("a negative counter".into()));
        }
        switch_to(&family, &mut current).map_err(at)?;
        seen_samples.insert(family);
        let key = format!("{name}{labels:?}");
        if !series.insert(key) {
            return Err(at("a duplicate series".into()));
        }
        exp.samples.push(Sample {
            name: name.to_string(),
            labels,
            value: v,
        });
    }
    Ok(exp)
}

#[test]
fn the_reader_refuses_what_promtool_refuses() {
    let ok = "# HELP a x\n# TYPE a gauge\na{b=\"1\\\"\\n\"} 2\na 3\n";
    assert_eq!(parse(ok).unwrap().samples.len(), 2);
    for bad in [
        "a 1",                                      // no newline at the end
        "1a 1\n",                                   // metric name
        "a{1b=\"x\"} 1\n",                          // label name
        "a{b=x} 1\n",                               // unquoted
        "a{b=\"x\"}1\n",                            // no space
        "a one\n",                                  // value
        "a 1\na 2\n",                               // duplicate series
        "# TYPE a gauge\na 1\n# TYPE a gauge\n",    // repeated TYPE
        "a 1\n# TYPE a gauge\n",                    // TYPE after samples
        "# TYPE a gauge\na 1\nb 1\na{x=\"1\"} 1\n", // interleaved
        "# TYPE a counter\na -1\n",                 // negative counter
        "a{b=\"x\\q\"} 1\n",                        // bad escape
        "# TYPE a thing\n",                         // unknown type
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}
