//! Fuzzes `POST /mcp` bodies (JSON-RPC messages and tool calls) with the check in
//! `registry_tests::fuzz` (shared with the replay test `tests/tests/fuzz.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_tests::fuzz::check_of("mcp")(data));
