//! Bookkeeping of held long polls. The core decides which waiters a change wakes; the host holds
//! the actual connections and timers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::auth::Principal;

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
    /// Who holds it: a waiter on all names is woken only by names in this principal's scope,
    /// and its answer shows only those.
    pub principal: Principal,
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

    /// Every held waiter, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Waiter> {
        self.waiters.values()
    }

    /// Whether no waiter is held.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Registers a waiter held by `principal` and returns its id.
    pub fn add(
        &mut self,
        kind: WaitKind,
        names: Option<Vec<String>>,
        principal: Principal,
    ) -> WaiterId {
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
                principal,
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
        let names: Vec<&String> = names.into_iter().collect();
        if let Some(all) = self.watch_all.get(&kind) {
            // A waiter on all names whose holder sees only some is woken by those only.
            hit.extend(all.iter().copied().filter(|id| {
                self.waiters.get(id).is_some_and(|w| {
                    w.principal.is_unrestricted() || names.iter().any(|n| w.principal.in_scope(n))
                })
            }));
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
        let open = Principal::open;
        let a = w.add(WaitKind::Values, Some(vec!["a".into()]), open());
        let all = w.add(WaitKind::Values, None, open());
        let req = w.add(WaitKind::Requests, Some(vec!["a".into()]), open());
        assert_eq!(w.wake(WaitKind::Values, &["b".to_string()]), vec![all]);
        assert_eq!(w.wake(WaitKind::Values, &["a".to_string()]), vec![a]);
        assert!(w.wake(WaitKind::Values, &["a".to_string()]).is_empty());
        assert_eq!(w.wake(WaitKind::Requests, &["a".to_string()]), vec![req]);
        assert_eq!(w.len(), 3);
        assert!(w.get(a).unwrap().woken);
        w.remove(a);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn a_waiter_on_all_names_is_woken_only_by_names_in_its_scope() {
        use crate::auth::Role;
        let mut w = Waiters::default();
        let kitchen = Principal::new("k", Role::Consumer, None, Some(vec!["kitchen.".into()]));
        let scoped = w.add(WaitKind::Values, None, kitchen);
        let all = w.add(WaitKind::Values, None, Principal::open());
        // A change outside the scope wakes the unrestricted waiter only (positive control).
        assert_eq!(
            w.wake(WaitKind::Values, &["garage.door".to_string()]),
            vec![all]
        );
        assert!(!w.get(scoped).unwrap().woken);
        assert_eq!(
            w.wake(WaitKind::Values, &["kitchen.light".to_string()]),
            vec![scoped]
        );
    }
}
