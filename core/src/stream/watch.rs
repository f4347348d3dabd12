//! Watches: which operations of a version a subscriber sees. A watch names entries by id or
//! selects them with a query; an operation matches when the entry matches before or after it
//! (so an entry leaving a query's result is seen, with `entry: null`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::history::{Op, OpKind};
use crate::query::eval::Compiled;

/// What a watch selects, as the client gave it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchSpec {
    /// Entry ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    /// Query criteria (`[op]field=pattern`, ANDed).
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub criteria: Option<Vec<String>>,
}

/// A watch ready to match.
#[derive(Debug, Clone)]
pub enum Watch {
    /// By id.
    Names(BTreeSet<String>),
    /// By query.
    Query(Compiled),
}

impl Watch {
    /// Whether the entry `e` is selected.
    fn selects(&self, e: &crate::Entry) -> bool {
        match self {
            Watch::Names(names) => names.contains(&e.id),
            Watch::Query(q) => q.matches(e),
        }
    }

    /// The operations of a changeset this watch sees, as wire items `{op, id, entry}`;
    /// `silent(kind)` says which kinds are not propagated, `visible(id)` which ids its
    /// subscriber may read.
    pub fn items<'a>(
        &self,
        ops: &'a [Op],
        silent: &dyn Fn(&str) -> bool,
        visible: &dyn Fn(&str) -> bool,
    ) -> Vec<super::wire::WireOp<'a>> {
        let mut out = Vec::new();
        for op in ops {
            if !visible(&op.id) {
                continue;
            }
            let kind = op
                .entry
                .as_ref()
                .or(op.before.as_ref())
                .map_or("", |e| e.kind.as_str());
            if silent(kind) {
                continue;
            }
            if let Watch::Names(names) = self {
                if !names.contains(&op.id) {
                    continue;
                }
            }
            let after = op.entry.as_ref().filter(|e| self.selects(e));
            let before = op.before.as_ref().is_some_and(|e| self.selects(e));
            if after.is_none() && !before {
                continue;
            }
            out.push(super::wire::WireOp {
                op: op_name(op.op),
                id: &op.id,
                entry: after,
                before: None,
            });
        }
        out
    }
}

/// The wire name of an operation.
pub fn op_name(k: OpKind) -> &'static str {
    match k {
        OpKind::Create => "create",
        OpKind::Update => "update",
        OpKind::Delete => "delete",
    }
}
