//! Fuzzes Go duration parsing, rounding and formatting with the check in
//! `registry_tests::fuzz` (shared with the replay test `tests/tests/fuzz.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_tests::fuzz::check_of("duration")(data));
