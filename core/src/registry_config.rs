//! Per-registry configuration (dependency patterns, non-propagated kinds, retention, limits),
//! stored versioned as the entry `registry:config` of kind `registry.entry`, so that it has
//! history and rolls back with everything else.

use serde::{Deserialize, Serialize};

use crate::deps::{default_patterns, DepPattern};

/// The id of the configuration entry.
pub const CONFIG_ID: &str = "registry:config";
/// The kind of the configuration entry.
pub const CONFIG_KIND: &str = "registry.entry";

/// What `GET/PUT /v1/config` carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Paths whose string (or string-array) values name the entries an entry depends on.
    #[serde(default = "default_dependency_patterns")]
    pub dependency_patterns: Vec<String>,
    /// Kinds whose operations are versioned but not offered to listeners or watchers.
    #[serde(default = "default_non_propagated")]
    pub non_propagated_kinds: Vec<String>,
    /// Keep at least this many versions (`null` = the deployment's setting, all by default).
    #[serde(default)]
    pub retention_versions: Option<u64>,
    /// Most operations in one transaction.
    #[serde(default = "default_max_ops")]
    pub max_ops: usize,
    /// How long a transaction waits for remote validators' verdicts (no verdict = rejected).
    #[serde(default = "default_validator_timeout_ms")]
    pub validator_timeout_ms: u64,
}

fn default_validator_timeout_ms() -> u64 {
    30_000
}

fn default_dependency_patterns() -> Vec<String> {
    vec!["meta.depends_on".into()]
}

fn default_non_propagated() -> Vec<String> {
    vec![
        "registry.entry".into(),
        "ns.requirement".into(),
        "ns.dependency".into(),
    ]
}

fn default_max_ops() -> usize {
    1_000
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            dependency_patterns: default_dependency_patterns(),
            non_propagated_kinds: default_non_propagated(),
            retention_versions: None,
            max_ops: default_max_ops(),
            validator_timeout_ms: default_validator_timeout_ms(),
        }
    }
}

/// The configuration in force, with its patterns parsed.
#[derive(Debug, Clone)]
pub struct Config {
    /// As stored.
    pub stored: RegistryConfig,
    /// Parsed dependency patterns.
    pub patterns: Vec<DepPattern>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stored: RegistryConfig::default(),
            patterns: default_patterns(),
        }
    }
}

impl Config {
    /// Validates a configuration; the error says what is wrong.
    pub fn from_stored(stored: RegistryConfig) -> Result<Self, String> {
        let patterns = stored
            .dependency_patterns
            .iter()
            .map(|p| DepPattern::parse(p).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        if stored.max_ops == 0 || stored.max_ops > 10_000 {
            return Err(format!("max_ops must be 1..=10000, got {}", stored.max_ops));
        }
        for k in &stored.non_propagated_kinds {
            crate::api::v1_entries::validate_kind(k).map_err(|e| e.message)?;
        }
        Ok(Config { stored, patterns })
    }

    /// Whether operations on entries of this kind skip listeners and watchers.
    pub fn is_silent(&self, kind: &str) -> bool {
        self.stored.non_propagated_kinds.iter().any(|k| k == kind)
    }
}
