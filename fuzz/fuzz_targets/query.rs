//! Fuzzes the query parser and evaluator with the check in `registry_tests::query_fuzz`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_tests::query_fuzz::check(data));
