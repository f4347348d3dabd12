//! Changesets: ordered `create | update | delete` operations, each carrying the entry after and
//! the pre-image, so that every changeset can be reversed. `squash`, `reverse` and `delta` are
//! the algebra that history navigation is built on (SPEC §4.5–4.6).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::entry::Entry;

/// A registry state as history sees it: entries by id (content and version; no runtime expiry).
pub type State = BTreeMap<String, Entry>;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// The entry did not exist and now does.
    Create,
    /// The entry existed and its content changed.
    Update,
    /// The entry existed and now does not.
    Delete,
}

/// One operation of a changeset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// What it does.
    pub op: OpKind,
    /// The entry id.
    pub id: String,
    /// The entry after (create, update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<Entry>,
    /// The entry before (update, delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Entry>,
}

impl Op {
    /// A create of `entry`.
    pub fn create(entry: Entry) -> Op {
        Op {
            op: OpKind::Create,
            id: entry.id.clone(),
            entry: Some(entry),
            before: None,
        }
    }

    /// An update from `before` to `entry`.
    pub fn update(before: Entry, entry: Entry) -> Op {
        Op {
            op: OpKind::Update,
            id: entry.id.clone(),
            entry: Some(entry),
            before: Some(before),
        }
    }

    /// A delete of `before`.
    pub fn delete(before: Entry) -> Op {
        Op {
            op: OpKind::Delete,
            id: before.id.clone(),
            entry: None,
            before: Some(before),
        }
    }

    /// The operation that undoes this one.
    pub fn inverse(&self) -> Op {
        Op {
            op: match self.op {
                OpKind::Create => OpKind::Delete,
                OpKind::Update => OpKind::Update,
                OpKind::Delete => OpKind::Create,
            },
            id: self.id.clone(),
            entry: self.before.clone(),
            before: self.entry.clone(),
        }
    }
}

/// An ordered list of operations.
pub type Changeset = Vec<Op>;

/// A changeset that does not fit the state (or the changesets before it).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChangesetError {
    /// Create of an id that exists.
    #[error("cannot create {0:?}: it already exists")]
    Exists(String),
    /// Update or delete of an id that does not exist.
    #[error("cannot {op} {id:?}: it does not exist")]
    Missing {
        /// `update` or `delete`.
        op: &'static str,
        /// The entry id.
        id: String,
    },
    /// An operation without the entry it needs.
    #[error("{op} of {id:?} lacks its {field}")]
    Malformed {
        /// The operation.
        op: &'static str,
        /// The entry id.
        id: String,
        /// `entry` or `before`.
        field: &'static str,
    },
}

pub(crate) fn after(op: &Op) -> Result<&Entry, ChangesetError> {
    op.entry.as_ref().ok_or_else(|| ChangesetError::Malformed {
        op: "create/update",
        id: op.id.clone(),
        field: "entry",
    })
}

/// Whether an operation fits an entry being `present`: a create needs it absent, an update or
/// a delete present.
pub(crate) fn check_fits(op: &Op, present: bool) -> Result<(), ChangesetError> {
    match (op.op, present) {
        (OpKind::Create, true) => Err(ChangesetError::Exists(op.id.clone())),
        (OpKind::Update, false) => Err(ChangesetError::Missing {
            op: "update",
            id: op.id.clone(),
        }),
        (OpKind::Delete, false) => Err(ChangesetError::Missing {
            op: "delete",
            id: op.id.clone(),
        }),
        _ => Ok(()),
    }
}

/// Applies a changeset to a state, checking that each operation fits.
pub fn apply(state: &mut State, changeset: &[Op]) -> Result<(), ChangesetError> {
    for op in changeset {
        match op.op {
            OpKind::Create => {
                if state.contains_key(&op.id) {
                    return Err(ChangesetError::Exists(op.id.clone()));
                }
                state.insert(op.id.clone(), after(op)?.clone());
            }
            OpKind::Update => {
                let slot = state
                    .get_mut(&op.id)
                    .ok_or_else(|| ChangesetError::Missing {
                        op: "update",
                        id: op.id.clone(),
                    })?;
                *slot = after(op)?.clone();
            }
            OpKind::Delete => {
                if state.remove(&op.id).is_none() {
                    return Err(ChangesetError::Missing {
                        op: "delete",
                        id: op.id.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The changeset that undoes `changeset`: inverse operations in reverse order.
pub fn reverse(changeset: &[Op]) -> Changeset {
    changeset.iter().rev().map(Op::inverse).collect()
}

/// Merges consecutive changesets into the minimal one with the same effect:
/// create+update = create(new), create+delete = nothing, update+update = update(first pre-image,
/// last value), update+delete = delete(first pre-image), delete+create = update. Operations
/// keep the order of each id's first appearance.
pub fn squash<'a>(
    changesets: impl IntoIterator<Item = &'a [Op]>,
) -> Result<Changeset, ChangesetError> {
    // Per id: (first pre-image, current after); None = absent at that point.
    let mut order: Vec<String> = Vec::new();
    let mut net: HashMap<String, (Option<Entry>, Option<Entry>)> = HashMap::new();
    for cs in changesets {
        for op in cs {
            let slot = match net.get_mut(&op.id) {
                Some(slot) => slot,
                None => {
                    order.push(op.id.clone());
                    let start = match op.op {
                        OpKind::Create => None,
                        OpKind::Update | OpKind::Delete => {
                            Some(op.before.clone().ok_or_else(|| ChangesetError::Malformed {
                                op: "update/delete",
                                id: op.id.clone(),
                                field: "before",
                            })?)
                        }
                    };
                    net.entry(op.id.clone()).or_insert((start.clone(), start))
                }
            };
            check_fits(op, slot.1.is_some())?;
            slot.1 = match op.op {
                OpKind::Delete => None,
                _ => Some(after(op)?.clone()),
            };
        }
    }
    let mut out = Vec::new();
    for id in order {
        let (first, last) = net.remove(&id).expect("every ordered id has a net change");
        match (first, last) {
            (None, None) => {}
            (None, Some(e)) => out.push(Op::create(e)),
            (Some(b), None) => out.push(Op::delete(b)),
            (Some(b), Some(e)) => {
                if b != e {
                    out.push(Op::update(b, e));
                }
            }
        }
    }
    Ok(out)
}

/// Whether two entries have the same content (kind, meta, data, TTL); versions and runtime
/// expiry are not content.
pub fn same_content(a: &Entry, b: &Entry) -> bool {
    a.kind == b.kind && a.meta == b.meta && a.data == b.data && a.ttl_ms == b.ttl_ms
}

/// The minimal changeset that turns state `a` into state `b` (by content), in id order.
pub fn delta(a: &State, b: &State) -> Changeset {
    let mut out = Vec::new();
    let mut ia = a.iter().peekable();
    let mut ib = b.iter().peekable();
    loop {
        match (ia.peek(), ib.peek()) {
            (None, None) => break,
            (Some((_, ea)), None) => {
                out.push(Op::delete((*ea).clone()));
                ia.next();
            }
            (None, Some((_, eb))) => {
                out.push(Op::create((*eb).clone()));
                ib.next();
            }
            (Some((ka, ea)), Some((kb, eb))) => match ka.cmp(kb) {
                std::cmp::Ordering::Less => {
                    out.push(Op::delete((*ea).clone()));
                    ia.next();
                }
                std::cmp::Ordering::Greater => {
                    out.push(Op::create((*eb).clone()));
                    ib.next();
                }
                std::cmp::Ordering::Equal => {
                    if !same_content(ea, eb) {
                        out.push(Op::update((*ea).clone(), (*eb).clone()));
                    }
                    ia.next();
                    ib.next();
                }
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e(id: &str, data: i64) -> Entry {
        Entry {
            id: id.into(),
            kind: "k".into(),
            meta: Default::default(),
            data: json!(data),
            ttl_ms: None,
            expires_at: None,
            version: 0,
        }
    }

    #[test]
    fn squash_rules() {
        let c = [Op::create(e("a", 1))];
        let u = [Op::update(e("a", 1), e("a", 2))];
        let u2 = [Op::update(e("a", 2), e("a", 3))];
        let d = [Op::delete(e("a", 3))];
        assert_eq!(
            squash([&c[..], &u[..]]).unwrap(),
            vec![Op::create(e("a", 2))]
        );
        assert_eq!(squash([&c[..], &u[..], &u2[..], &d[..]]).unwrap(), vec![]);
        assert_eq!(
            squash([&u[..], &u2[..]]).unwrap(),
            vec![Op::update(e("a", 1), e("a", 3))]
        );
        assert_eq!(
            squash([&u[..], &u2[..], &d[..]]).unwrap(),
            vec![Op::delete(e("a", 1))]
        );
        let d1 = [Op::delete(e("a", 1))];
        let c5 = [Op::create(Entry {
            kind: "other".into(),
            ..e("a", 5)
        })];
        assert_eq!(
            squash([&d1[..], &c5[..]]).unwrap(),
            vec![Op::update(
                e("a", 1),
                Entry {
                    kind: "other".into(),
                    ..e("a", 5)
                }
            )]
        );
        assert_eq!(
            squash([&c[..], &c[..]]),
            Err(ChangesetError::Exists("a".into()))
        );
        assert!(squash([&d1[..], &d1[..]]).is_err());
    }

    #[test]
    fn reverse_restores_and_delta_is_minimal() {
        let start: State = [("a".to_string(), e("a", 1)), ("b".to_string(), e("b", 1))].into();
        let cs = vec![
            Op::update(e("a", 1), e("a", 2)),
            Op::delete(e("b", 1)),
            Op::create(e("c", 1)),
        ];
        let mut s = start.clone();
        apply(&mut s, &cs).unwrap();
        assert_eq!(
            delta(&start, &s),
            vec![
                Op::update(e("a", 1), e("a", 2)),
                Op::delete(e("b", 1)),
                Op::create(e("c", 1))
            ]
        );
        apply(&mut s, &reverse(&cs)).unwrap();
        assert_eq!(s, start);
        assert!(delta(&start, &start).is_empty());
    }

    #[test]
    fn apply_checks_each_operation() {
        let mut s = State::new();
        assert!(apply(&mut s, &[Op::update(e("a", 1), e("a", 2))]).is_err());
        apply(&mut s, &[Op::create(e("a", 1))]).unwrap();
        assert_eq!(
            apply(&mut s, &[Op::create(e("a", 1))]),
            Err(ChangesetError::Exists("a".into()))
        );
    }
}
