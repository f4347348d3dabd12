//! Bookkeeping of held long polls. The core decides which waiters a change wakes; the host holds
//! the actual connections and timers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Identifies one held long poll.
pub type WaiterId = u64;

/// What a waiter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WaitKind {
    /// `GET /consumer`: a change of a named register's value, metadata or existence.
    Values,
    /// `GET /provider`: a change request for a named register.
    Requests,
    /// `GET /v1/requests/{id}?wait=`: the request (named by its id) reaching a final status.
    Outcome,
    /// A transaction (named by its id) awaiting remote validators.
    Tx,
}

/// One held long poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiter {
    /// What it waits for.
    pub kind: WaitKind,
    /// The names it watches; `None` = all.
    pub names: Option<Vec<String>>,
    /// Whether a change already woke it (it is no longer indexed).
    pub woken: bool,
}

/// All held long polls of one registry, indexed by name for O(changed names) wake-ups.
#[derive(Debug, Default)]
pub struct Waiters {
    next_id: WaiterId,
    waiters: HashMap<WaiterId, Waiter>,
    by_name: HashMap<(WaitKind, String), BTreeSet<WaiterId>>,
    watch_all: BTreeMap<WaitKind, BTreeSet<WaiterId>>,
}

impl Waiters {
    /// Number of held waiters (woken or not).
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Whether no waiter is held.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Registers a waiter and returns its id.
    pub fn add(&mut self, kind: WaitKind, names: Option<Vec<String>>) -> WaiterId {
        self.next_id += 1;
        let id = self.next_id;
        match &names {
            None => {
                self.watch_all.entry(kind).or_default().insert(id);
            }
            Some(names) => {
                for n in names {
                    self.by_name
                        .entry((kind, n.clone()))
                        .or_default()
                        .insert(id);
                }
            }
        }
        self.waiters.insert(
            id,
            Waiter {
                kind,
                names,
                woken: false,
            },
        );
        id
    }

    /// One waiter.
    pub fn get(&self, id: WaiterId) -> Option<&Waiter> {
        self.waiters.get(&id)
    }

    /// Marks every waiter of `kind` watching any of `names` as woken and returns their ids
    /// (each at most once).
    pub fn wake<'a>(
        &mut self,
        kind: WaitKind,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Vec<WaiterId> {
        let mut hit = BTreeSet::new();
        if let Some(all) = self.watch_all.get(&kind) {
            hit.extend(all.iter().copied());
        }
        for n in names {
            if let Some(ids) = self.by_name.get(&(kind, n.clone())) {
                hit.extend(ids.iter().copied());
            }
        }
        let ids: Vec<WaiterId> = hit.into_iter().collect();
        for id in &ids {
            self.unindex(*id);
            if let Some(w) = self.waiters.get_mut(id) {
                w.woken = true;
            }
        }
        ids
    }

    /// Marks one waiter as woken (if it is held and not woken yet); true if it was.
    pub fn wake_id(&mut self, id: WaiterId) -> bool {
        match self.waiters.get(&id) {
            Some(w) if !w.woken => {
                self.unindex(id);
                if let Some(w) = self.waiters.get_mut(&id) {
                    w.woken = true;
                }
                true
            }
            _ => false,
        }
    }

    /// Removes a waiter (it returned or its client went away).
    pub fn remove(&mut self, id: WaiterId) -> Option<Waiter> {
        self.unindex(id);
        self.waiters.remove(&id)
    }

    fn unindex(&mut self, id: WaiterId) {
        let Some(w) = self.waiters.get(&id) else {
            return;
        };
        if w.woken {
            return;
        }
        match &w.names {
            None => {
                if let Some(set) = self.watch_all.get_mut(&w.kind) {
                    set.remove(&id);
                }
            }
            Some(names) => {
                for n in names {
                    let key = (w.kind, n.clone());
                    if let Some(set) = self.by_name.get_mut(&key) {
                        set.remove(&id);
                        if set.is_empty() {
                            self.by_name.remove(&key);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_only_matching_waiters_once() {
        let mut w = Waiters::default();
        let a = w.add(WaitKind::Values, Some(vec!["a".into()]));
        let all = w.add(WaitKind::Values, None);
        let req = w.add(WaitKind::Requests, Some(vec!["a".into()]));
        assert_eq!(w.wake(WaitKind::Values, &["b".to_string()]), vec![all]);
        assert_eq!(w.wake(WaitKind::Values, &["a".to_string()]), vec![a]);
        assert!(w.wake(WaitKind::Values, &["a".to_string()]).is_empty());
        assert_eq!(w.wake(WaitKind::Requests, &["a".to_string()]), vec![req]);
        assert_eq!(w.len(), 3);
        assert!(w.get(a).unwrap().woken);
        w.remove(a);
        assert_eq!(w.len(), 2);
    }
}
