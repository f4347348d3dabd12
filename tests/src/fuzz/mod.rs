//! The checks the fuzz targets (`fuzz/fuzz_targets/`) run on every input, shared with the test
//! that replays kept inputs (`tests/tests/fuzz.rs`): one function per target, all driving the
//! core through [`core_api`] and asserting the properties of [`props`].

pub mod core_api;
pub mod duration;
pub mod http;
pub mod mcp;
pub mod props;
pub mod ws;

/// The check a fuzz target runs on one input: it panics on a violation.
pub type Check = fn(&[u8]);

/// Every fuzz target by name (its file in `fuzz/fuzz_targets/`, its folders under
/// `fuzz/seeds/` and `fuzz/regressions/`) with its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("query", crate::query_fuzz::check),
    ("duration", duration::check),
    ("provider_put", http::check_provider_put),
    ("consumer_put", http::check_consumer_put),
    ("v1_body", http::check_v1_body),
    ("query_string", http::check_query_string),
    ("ws_message", ws::check),
    ("mcp", mcp::check),
];

/// The check of the target called `name`.
pub fn check_of(name: &str) -> Check {
    TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, check)| *check)
        .unwrap_or_else(|| panic!("no fuzz target {name:?}"))
}
