//! Listeners see every operation of a transaction before anything is written and may reject
//! it with a reason. All verdicts are gathered; any rejection discards the whole transaction.
//! Built in: [`DependencyIntegrity`]. Remote validators (over WebSocket) will implement the
//! same trait.

use std::collections::{BTreeSet, HashMap};

use crate::deps::{dependencies, DepIndex, DepPattern};
use crate::entry::Entry;
use crate::history::{Op, OpKind};
use crate::registry::Registry;

/// What a listener can see of a transaction: the entries before and after it.
pub struct TxContext<'a> {
    registry: &'a Registry,
    index: &'a DepIndex,
    patterns: &'a [DepPattern],
    /// The entry after the transaction for every id it touches (`None` = deleted).
    touched: HashMap<&'a str, Option<&'a Entry>>,
    /// For each id, the touched ids whose entry after the transaction depends on it (built on
    /// the first delete's check, so that each check is a lookup, not a pass over the
    /// transaction).
    touched_dependents: std::cell::OnceCell<HashMap<String, BTreeSet<String>>>,
}

impl<'a> TxContext<'a> {
    /// Builds the context of an ordered changeset.
    pub fn new(
        registry: &'a Registry,
        index: &'a DepIndex,
        patterns: &'a [DepPattern],
        ops: &'a [Op],
    ) -> Self {
        let touched: HashMap<&str, Option<&Entry>> = ops
            .iter()
            .map(|op| (op.id.as_str(), op.entry.as_ref()))
            .collect();
        TxContext {
            registry,
            index,
            patterns,
            touched,
            touched_dependents: Default::default(),
        }
    }

    /// The entry with this id once the transaction applied.
    pub fn entry_after(&self, id: &str) -> Option<&Entry> {
        match self.touched.get(id) {
            Some(e) => *e,
            None => self.registry.get(id),
        }
    }

    /// The entries that depend on `id` once the transaction applied.
    pub fn dependents_after(&self, id: &str) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self
            .index
            .needed_by(id)
            .into_iter()
            .filter(|d| !self.touched.contains_key(d.as_str()))
            .collect();
        let by_dependency = self.touched_dependents.get_or_init(|| {
            let mut map: HashMap<String, BTreeSet<String>> = HashMap::new();
            for (tid, after) in &self.touched {
                for dep in after
                    .map(|e| dependencies(e, self.patterns))
                    .unwrap_or_default()
                {
                    map.entry(dep).or_default().insert(tid.to_string());
                }
            }
            map
        });
        if let Some(ids) = by_dependency.get(id) {
            out.extend(ids.iter().cloned());
        }
        out
    }

    /// The dependency patterns in force.
    pub fn patterns(&self) -> &[DepPattern] {
        self.patterns
    }
}

/// Takes part in transactions.
pub trait Listener {
    /// A name for rejection reasons.
    fn name(&self) -> &str;
    /// A transaction starts.
    fn begin(&mut self, _ctx: &TxContext<'_>) {}
    /// One operation (in application order); `Err(reason)` rejects the transaction.
    fn operation(&mut self, op: &Op, ctx: &TxContext<'_>) -> Result<(), String>;
    /// The transaction was written as `version`.
    fn commit(&mut self, _version: u64) {}
    /// The transaction was discarded.
    fn discard(&mut self) {}
}

/// An entry may not depend on a missing entry, and an entry others depend on may not be
/// deleted unless the same transaction updates or deletes those dependents.
#[derive(Debug, Default)]
pub struct DependencyIntegrity;

impl Listener for DependencyIntegrity {
    fn name(&self) -> &str {
        "dependency-integrity"
    }

    fn operation(&mut self, op: &Op, ctx: &TxContext<'_>) -> Result<(), String> {
        match (op.op, &op.entry) {
            (OpKind::Create | OpKind::Update, Some(e)) => {
                let missing: Vec<String> = dependencies(e, ctx.patterns())
                    .into_iter()
                    .filter(|d| ctx.entry_after(d).is_none())
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "{} depends on missing {}",
                        op.id,
                        missing.join(", ")
                    ))
                }
            }
            _ => {
                let dependents = ctx.dependents_after(&op.id);
                if dependents.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "cannot delete {}: {} still depend on it",
                        op.id,
                        dependents.into_iter().collect::<Vec<_>>().join(", ")
                    ))
                }
            }
        }
    }
}
