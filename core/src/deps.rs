//! Dependencies between entries: path patterns over `meta` and `data` (`meta.depends_on`,
//! `data.routes.*.handler`) extract the ids an entry depends on, and changesets are ordered so
//! that creates/updates come after what they depend on and deletes before what they depend on.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use thiserror::Error;

use crate::entry::{split_id, Entry};
use crate::history::{Op, OpKind};

/// One step of a dependency path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object key.
    Key(String),
    /// `*`: every value of an object or item of an array.
    Any,
}

/// A dependency path pattern such as `meta.depends_on` or `data.routes.*.handler`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepPattern {
    /// `true` for `data.…`, `false` for `meta.…`.
    pub in_data: bool,
    /// The steps below the root.
    pub steps: Vec<Step>,
    /// The pattern as written.
    pub text: String,
}

/// A malformed dependency pattern.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid dependency pattern {0:?}: use meta.<path> or data.<path>, segments separated by '.', '*' for any key or item")]
pub struct PatternError(pub String);

impl DepPattern {
    /// Parses `meta.<path>` / `data.<path>`.
    ///
    /// ```
    /// use registry_core::deps::DepPattern;
    /// assert!(DepPattern::parse("data.routes.*.handler").is_ok());
    /// assert!(DepPattern::parse("depends_on").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let (in_data, rest) = if let Some(r) = text.strip_prefix("meta.") {
            (false, r)
        } else if let Some(r) = text.strip_prefix("data.") {
            (true, r)
        } else {
            return Err(PatternError(text.to_string()));
        };
        let steps: Vec<Step> = rest
            .split('.')
            .map(|s| match s {
                "" => Err(PatternError(text.to_string())),
                "*" => Ok(Step::Any),
                k => Ok(Step::Key(k.to_string())),
            })
            .collect::<Result<_, _>>()?;
        Ok(DepPattern {
            in_data,
            steps,
            text: text.to_string(),
        })
    }
}

/// The default dependency patterns.
pub fn default_patterns() -> Vec<DepPattern> {
    vec![DepPattern::parse("meta.depends_on").expect("valid")]
}

/// Resolves a reference found in `entry`: `ns:name` as is, a bare name in the entry's namespace.
pub fn resolve_id(entry_id: &str, reference: &str) -> String {
    if reference.contains(':') {
        return reference.to_string();
    }
    match split_id(entry_id).0 {
        "" => reference.to_string(),
        ns => format!("{ns}:{reference}"),
    }
}

fn collect(v: &Value, steps: &[Step], out: &mut Vec<String>) {
    match steps.split_first() {
        None => match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => {
                for i in items {
                    if let Value::String(s) = i {
                        out.push(s.clone());
                    }
                }
            }
            _ => {}
        },
        Some((Step::Key(k), rest)) => {
            if let Some(next) = v.as_object().and_then(|m| m.get(k)) {
                collect(next, rest, out);
            }
        }
        Some((Step::Any, rest)) => match v {
            Value::Object(m) => m.values().for_each(|next| collect(next, rest, out)),
            Value::Array(items) => items.iter().for_each(|next| collect(next, rest, out)),
            _ => {}
        },
    }
}

/// The ids `entry` depends on (resolved, sorted, without itself).
pub fn dependencies(entry: &Entry, patterns: &[DepPattern]) -> BTreeSet<String> {
    let mut raw = Vec::new();
    for p in patterns {
        if p.in_data {
            collect(&entry.data, &p.steps, &mut raw);
        } else {
            // The root of a meta pattern is the meta object itself.
            match p.steps.split_first() {
                Some((Step::Key(k), rest)) => {
                    if let Some(v) = entry.meta.get(k) {
                        collect(v, rest, &mut raw);
                    }
                }
                Some((Step::Any, rest)) => {
                    entry.meta.values().for_each(|v| collect(v, rest, &mut raw))
                }
                None => {}
            }
        }
    }
    raw.iter()
        .filter(|r| !r.is_empty())
        .map(|r| resolve_id(&entry.id, r))
        .filter(|id| *id != entry.id)
        .collect()
}

/// Who depends on whom, for the current entries.
#[derive(Debug, Default, Clone)]
pub struct DepIndex {
    forward: HashMap<String, BTreeSet<String>>,
    reverse: HashMap<String, BTreeSet<String>>,
}

impl DepIndex {
    /// Builds the index of a set of entries.
    pub fn build<'a>(entries: impl Iterator<Item = &'a Entry>, patterns: &[DepPattern]) -> Self {
        let mut index = DepIndex::default();
        for e in entries {
            let deps = dependencies(e, patterns);
            // Each id comes once: one without dependencies has nothing to add or replace.
            if !deps.is_empty() {
                index.set(&e.id, deps);
            }
        }
        index
    }

    /// Replaces the dependencies of `id` (an empty set for a deleted entry).
    pub fn set(&mut self, id: &str, deps: BTreeSet<String>) {
        if let Some(old) = self.forward.remove(id) {
            for d in old {
                if let Some(r) = self.reverse.get_mut(&d) {
                    r.remove(id);
                    if r.is_empty() {
                        self.reverse.remove(&d);
                    }
                }
            }
        }
        for d in &deps {
            self.reverse
                .entry(d.clone())
                .or_default()
                .insert(id.to_string());
        }
        if !deps.is_empty() {
            self.forward.insert(id.to_string(), deps);
        }
    }

    /// What `id` depends on.
    pub fn needs(&self, id: &str) -> BTreeSet<String> {
        self.forward.get(id).cloned().unwrap_or_default()
    }

    /// What depends on `id`.
    pub fn needed_by(&self, id: &str) -> BTreeSet<String> {
        self.reverse.get(id).cloned().unwrap_or_default()
    }
}

/// A dependency cycle among the operations of a changeset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("dependency cycle: {} (each depends on the next)", .0.join(" → "))]
pub struct CycleError(pub Vec<String>);

/// Topological order of `nodes` (sorted ids) where node `i` must come after every node in
/// `after[i]` (indexes into `nodes`); ties by id. A cycle is named.
fn topo(nodes: &[String], after: &[Vec<usize>]) -> Result<Vec<usize>, CycleError> {
    let n = nodes.len();
    let mut indegree = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (node, firsts) in after.iter().enumerate() {
        for &f in firsts {
            if f != node {
                indegree[node] += 1;
                dependents[f].push(node);
            }
        }
    }
    // Indexes follow id order, so the smallest ready index is the smallest ready id.
    let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = (0..n)
        .filter(|&i| indegree[i] == 0)
        .map(std::cmp::Reverse)
        .collect();
    let mut out = Vec::with_capacity(n);
    while let Some(std::cmp::Reverse(i)) = ready.pop() {
        out.push(i);
        for &d in &dependents[i] {
            indegree[d] -= 1;
            if indegree[d] == 0 {
                ready.push(std::cmp::Reverse(d));
            }
        }
    }
    if out.len() == n {
        return Ok(out);
    }
    // Name one cycle: walk "must come after" links among the nodes left until one repeats.
    let left: Vec<bool> = indegree.iter().map(|d| *d > 0).collect();
    let start = left.iter().position(|l| *l).expect("a node is left");
    let mut path = vec![start];
    loop {
        let cur = *path.last().expect("non-empty");
        let next = after[cur]
            .iter()
            .copied()
            .filter(|&f| f != cur && left[f])
            .min()
            .expect("a node in a cycle has a predecessor left");
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|&i| nodes[i].clone()).collect();
            cycle.push(cycle[0].clone());
            return Err(CycleError(cycle));
        }
        path.push(next);
    }
}

/// Orders a changeset: creates and updates first, each after the entries it depends on (per its
/// entry after the change); then deletes, each before the entries it depends on (per its entry
/// before). Ties are ordered by id, so the order is deterministic. Each id appears at most once.
pub fn order(ops: Vec<Op>, patterns: &[DepPattern]) -> Result<Vec<Op>, CycleError> {
    let (mut upserts, mut deletes): (Vec<Op>, Vec<Op>) =
        ops.into_iter().partition(|op| op.op != OpKind::Delete);
    upserts.sort_by(|a, b| a.id.cmp(&b.id));
    deletes.sort_by(|a, b| a.id.cmp(&b.id));
    let index = |ops: &[Op]| -> HashMap<String, usize> {
        ops.iter()
            .enumerate()
            .map(|(i, o)| (o.id.clone(), i))
            .collect()
    };
    // Upserts: an entry comes after its dependencies.
    let at = index(&upserts);
    let after: Vec<Vec<usize>> = upserts
        .iter()
        .map(|op| {
            op.entry
                .as_ref()
                .map(|e| {
                    dependencies(e, patterns)
                        .iter()
                        .filter_map(|d| at.get(d).copied())
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let ids: Vec<String> = upserts.iter().map(|o| o.id.clone()).collect();
    let up_order = topo(&ids, &after)?;
    // Deletes: an entry comes after its dependents, i.e. before what it depends on.
    let at = index(&deletes);
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); deletes.len()];
    for (i, op) in deletes.iter().enumerate() {
        for dep in op
            .before
            .as_ref()
            .map(|e| dependencies(e, patterns))
            .unwrap_or_default()
        {
            if let Some(&j) = at.get(&dep) {
                after[j].push(i);
            }
        }
    }
    let ids: Vec<String> = deletes.iter().map(|o| o.id.clone()).collect();
    // A cycle found here follows "dependent of" links: report it as "depends on".
    let del_order = topo(&ids, &after).map_err(|mut e| {
        e.0.reverse();
        e
    })?;
    let mut upserts: Vec<Option<Op>> = upserts.into_iter().map(Some).collect();
    let mut deletes: Vec<Option<Op>> = deletes.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(up_order.len() + del_order.len());
    out.extend(
        up_order
            .into_iter()
            .map(|i| upserts[i].take().expect("each index once")),
    );
    out.extend(
        del_order
            .into_iter()
            .map(|i| deletes[i].take().expect("each index once")),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e(id: &str, meta: Value, data: Value) -> Entry {
        Entry {
            id: id.into(),
            kind: "k".into(),
            meta: meta.as_object().cloned().unwrap_or_default(),
            data,
            ttl_ms: None,
            expires_at: None,
            version: 0,
        }
    }

    #[test]
    fn extracts_with_wildcards_and_namespaces() {
        let patterns = vec![
            DepPattern::parse("meta.depends_on").unwrap(),
            DepPattern::parse("data.routes.*.handler").unwrap(),
        ];
        let x = e(
            "app:web",
            json!({"depends_on": ["db", "other:cache", ""]}),
            json!({"routes": [{"handler": "h1"}, {"handler": "lib:h2"}, {"nope": 1}], "x": "db"}),
        );
        let deps: Vec<String> = dependencies(&x, &patterns).into_iter().collect();
        assert_eq!(deps, ["app:db", "app:h1", "lib:h2", "other:cache"]);
        let bare = e("solo", json!({"depends_on": "db"}), json!(null));
        assert_eq!(
            dependencies(&bare, &patterns)
                .into_iter()
                .collect::<Vec<_>>(),
            ["db"]
        );
    }

    #[test]
    fn orders_and_names_cycles() {
        let p = default_patterns();
        let ops = vec![
            Op::create(e("a", json!({"depends_on": "b"}), json!(1))),
            Op::create(e("b", json!({"depends_on": "c"}), json!(1))),
            Op::create(e("c", json!({}), json!(1))),
        ];
        let ids: Vec<String> = order(ops, &p).unwrap().into_iter().map(|o| o.id).collect();
        assert_eq!(ids, ["c", "b", "a"]);
        let cyc = vec![
            Op::create(e("a", json!({"depends_on": "b"}), json!(1))),
            Op::create(e("b", json!({"depends_on": "a"}), json!(1))),
            Op::create(e("z", json!({}), json!(1))),
        ];
        let err = order(cyc, &p).unwrap_err();
        assert!(
            err.0 == ["a", "b", "a"] || err.0 == ["b", "a", "b"],
            "{err}"
        );
    }
}
