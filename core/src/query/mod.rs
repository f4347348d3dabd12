//! The query engine (finder): criteria `[op]field=pattern`, ANDed, evaluated over a registry
//! state, with results cached in an LRU keyed by the canonical query and the registry version.
//! See [`parse`] for the syntax and [`eval`] for the matching rules.

pub mod eval;
pub mod parse;

use std::sync::Arc;

use lru::LruCache;
use regex::Regex;

use crate::entry::Entry;
use eval::{compile_regex, Compiled};
use parse::{canonical, Criterion, QueryError};

/// Result and pattern caches of one registry.
pub struct QueryCache {
    results: LruCache<(u64, String), Arc<Vec<String>>>,
    regexes: LruCache<String, Arc<Regex>>,
    /// Result-cache hits (for tests and health).
    pub hits: u64,
    /// Result-cache misses.
    pub misses: u64,
}

impl std::fmt::Debug for QueryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryCache")
            .field("results", &self.results.len())
            .field("regexes", &self.regexes.len())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

fn cap(n: usize) -> std::num::NonZeroUsize {
    std::num::NonZeroUsize::new(n.max(1)).expect("at least 1")
}

impl QueryCache {
    /// Caches of the given capacities (at least 1 each).
    pub fn new(results: usize, patterns: usize) -> Self {
        QueryCache {
            results: LruCache::new(cap(results)),
            regexes: LruCache::new(cap(patterns)),
            hits: 0,
            misses: 0,
        }
    }

    /// Compiles a query, reusing cached regexes.
    pub fn compile(&mut self, criteria: &[Criterion]) -> Result<Compiled, QueryError> {
        let regexes = &mut self.regexes;
        Compiled::new(criteria, &mut |c: &Criterion| {
            if let Some(re) = regexes.get(&c.pattern) {
                return Ok(re.clone());
            }
            let re = Arc::new(compile_regex(c)?);
            regexes.put(c.pattern.clone(), re.clone());
            Ok(re)
        })
    }

    /// The ids (in id order) of the entries of the state at `version` that match, from the
    /// cache when this query was already answered at this version.
    pub fn find<'a>(
        &mut self,
        version: u64,
        criteria: &[Criterion],
        entries: impl Iterator<Item = &'a Entry>,
    ) -> Result<Arc<Vec<String>>, QueryError> {
        let key = (version, canonical(criteria));
        if let Some(ids) = self.results.get(&key) {
            self.hits += 1;
            return Ok(ids.clone());
        }
        self.misses += 1;
        let compiled = self.compile(criteria)?;
        let ids: Arc<Vec<String>> = Arc::new(
            entries
                .filter(|e| compiled.matches(e))
                .map(|e| e.id.clone())
                .collect(),
        );
        self.results.put(key, ids.clone());
        Ok(ids)
    }
}

/// Evaluates a query without any cache (the reference the cache is tested against).
pub fn find_uncached<'a>(
    criteria: &[Criterion],
    entries: impl Iterator<Item = &'a Entry>,
) -> Result<Vec<String>, QueryError> {
    let compiled = Compiled::new(criteria, &mut |c| compile_regex(c).map(Arc::new))?;
    Ok(entries
        .filter(|e| compiled.matches(e))
        .map(|e| e.id.clone())
        .collect())
}
